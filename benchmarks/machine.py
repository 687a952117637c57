"""How fast this machine's core runs plain Python right now, printed beside every CPU figure.

One host is not another, and a shared host's neighbours come and go: a loop of 10 million additions
written at a script's top level took 1.14-1.62 s of CPU on the machine of 2026-11-29's morning and
0.46-0.50 s on that of its afternoon, where the same cold report took 9.3-12.1 s and 4.2-5.2 s. A
CPU or wall figure means little without the machine's speed beside it: :func:`speed_line` times
such a loop inside a function (local variables: 0.17-0.24 s on the afternoon's machine), best of
three, CPU of this process, before a benchmark measures anything.
"""

from __future__ import annotations

import os
import time

LOOP_ADDITIONS = 10_000_000


def loop_cpu_s(repeat: int = 3) -> float:
    """Best CPU seconds of ``repeat`` interpreted loops of :data:`LOOP_ADDITIONS` additions."""
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        total = 0
        for i in range(LOOP_ADDITIONS):
            total += i
        best = min(best, time.process_time() - began)
    return best


def speed_line() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, load {load}; a loop of 10 M additions takes "
        f"{loop_cpu_s():.2f} s of CPU (0.17-0.24 on the machine of docs/reports.md's figures)"
    )
