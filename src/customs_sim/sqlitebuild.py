"""How every dataset database is opened for writing: one place for the build-time settings.

A dataset is built in a private directory and renamed into place only when complete (see
:mod:`customs_sim.dataset`), and a store writer renames its own file on ``close``, so a crash
mid-build leaves nothing a reader would use: durability during the build buys nothing, hence no
journal and no fsync. Pages of 16 KiB hold a whole document per row (a truth document is ~4 KB,
a Kazakh PI ~3 KB): with 4 KiB pages a good share of rows spill into overflow pages, which made
inserting and merging a third slower and the files a quarter larger. Readers need no setting:
the page size is stored in the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["PAGE_SIZE", "connect_for_build"]

PAGE_SIZE = 16_384


def connect_for_build(path: Path) -> sqlite3.Connection:
    """A connection to a new database at ``path`` with the build settings (before any table)."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    return conn
