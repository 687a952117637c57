"""Suite-wide settings.

Hypothesis checks properties, not speed: a property test on a loaded machine (CI, or several
suites at once) must not fail because an example took longer than Hypothesis' default 200 ms
deadline or because generating data was slow. Timing targets live in benchmarks/.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")
