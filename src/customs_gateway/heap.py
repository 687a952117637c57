"""The garbage collector's settings for a long-lived gateway process (server or scan worker)."""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_heap"]


def freeze_startup_heap(gen0_threshold: int) -> None:
    """Exempt what startup built (modules, schema, clients: ~0.5 M objects) from collection,
    and collect less often (``server.gc_gen0_threshold``).

    They live as long as the process, yet every full collection would walk them all; a
    request allocates thousands of tracked objects (a KGD list page alone is thousands of
    elements), so full collections are frequent, and walking the startup heap made garbage
    collection about a sixth of the gateway's CPU under load. With the default threshold a
    cold 90-day report still ran ~120 full collections (~16 s of ~67 s CPU); at 50,000 only a
    handful. The server calls it once its app is built, a scan worker once its clients are.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
