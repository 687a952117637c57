"""Suite-wide settings.

Report scan workers (``[reports] scan_workers``, separate processes) are off unless a test
turns them on: most test gateways never run a report, and each worker is a Python process to
start. The generated-dataset gateway of tests/e2e (``data``) runs reports with two of them.

Hypothesis checks properties, not speed: a property test on a loaded machine (CI, or several
suites at once) must not fail because an example took longer than Hypothesis' default 200 ms
deadline or because generating data was slow. Timing targets live in benchmarks/.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("CUSTOMS_GATEWAY_REPORTS__SCAN_WORKERS", "0")

settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")
