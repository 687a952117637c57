"""Memory of the in-memory cache at its bound, and that it stays there.

    python3 benchmarks/cache_memory.py                      # 100 000 entries of ~2 KiB
    python3 benchmarks/cache_memory.py --entries 20000 --value-bytes 512

Fills an :class:`EntityCache` over the bounded memory backend with ``--entries`` values of
``--value-bytes`` (through the real path: keys from the key builder, envelopes, ``set_many`` in
batches of 100), then keeps inserting ``--extra`` times as many new keys. Prints RSS before, at
the bound and after the extra inserts, the backend's own byte estimate, and the measured Python
overhead per entry (tracemalloc) next to ``ENTRY_OVERHEAD``. Exits 1 when the cache exceeds its
bounds or RSS grows more than 5 % after the bound was reached.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import tracemalloc

from customs_gateway.cache import CachePolicy, EntityCache, KeyBuilder, MemoryBackend, Resource
from customs_gateway.cache.memory import ENTRY_OVERHEAD

MANIFEST = Resource("GACC", "manifest")
POLICY = CachePolicy(fresh_s=3600, stale_s=600)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def fill(cache: EntityCache, start: int, count: int, value_bytes: int) -> None:
    for batch in range(start, start + count, 100):
        items = {f"MF{n:012d}": os.urandom(value_bytes) for n in range(batch, min(batch + 100, start + count))}
        await cache.set_many(MANIFEST, items, POLICY)


async def overhead_per_entry(value_bytes: int, n: int = 20_000) -> float:
    backend = MemoryBackend(max_entries=n, max_bytes=2**40)
    cache = EntityCache(backend, keys=KeyBuilder("cgw", 1), not_found_policy=CachePolicy(30))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await fill(cache, 0, n, value_bytes)
    gc.collect()
    allocated = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    payload = sum(len(key) + len(backend.store.peek(key) or b"") for key in backend.store.keys_lru_first())
    return (allocated - payload) / n


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--value-bytes", type=int, default=2048)
    parser.add_argument("--max-bytes", type=int, default=2**40, help="byte bound (default: only the entry bound)")
    parser.add_argument("--extra", type=int, default=3, help="insert this many times --entries more keys")
    args = parser.parse_args()

    gc.collect()
    base = rss_mib()
    backend = MemoryBackend(max_entries=args.entries, max_bytes=args.max_bytes)
    cache = EntityCache(backend, keys=KeyBuilder("cgw", 1), not_found_policy=CachePolicy(30))
    started = time.perf_counter()
    await fill(cache, 0, args.entries, args.value_bytes)
    filled_s = time.perf_counter() - started
    gc.collect()
    at_bound = rss_mib()
    store = backend.store
    print(f"RSS before: {base:.0f} MiB")
    print(
        f"at the bound: {len(store)} entries, estimate {store.approx_bytes / 2**20:.0f} MiB, RSS {at_bound:.0f} MiB "
        f"(+{at_bound - base:.0f} MiB, {(at_bound - base) * 2**20 / max(len(store), 1):.0f} B/entry), "
        f"filled in {filled_s:.1f} s"
    )
    peak = at_bound
    for round_ in range(1, args.extra + 1):
        await fill(cache, round_ * args.entries, args.entries, args.value_bytes)
        gc.collect()
        now = rss_mib()
        peak = max(peak, now)
        print(f"after {round_ * args.entries} more inserts: {len(store)} entries, RSS {now:.0f} MiB")
    within = len(store) <= store.max_entries and store.approx_bytes <= store.max_bytes
    stable = peak <= at_bound * 1.05
    print(f"bounds held: {within}; RSS stable within 5 %: {stable} (peak {peak:.0f} MiB)")
    del cache, backend, store
    overhead = await overhead_per_entry(args.value_bytes)
    print(f"measured Python overhead per entry: {overhead:.0f} B (ENTRY_OVERHEAD = {ENTRY_OVERHEAD} B)")
    return 0 if within and stable else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
