"""A small synchronous client for a simulator's admin surface (tests, benchmarks, the demo)."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["AdminClient"]


class AdminClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url, headers={"X-Admin-Token": token}, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def counters(self) -> dict[str, int]:
        """Requests per endpoint since the last reset."""
        endpoints: dict[str, int] = self._call("GET", "/__admin/counters")["endpoints"]
        return endpoints

    def total(self) -> int:
        total: int = self._call("GET", "/__admin/counters")["total"]
        return total

    def reset(self) -> None:
        self._call("DELETE", "/__admin/counters")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Replace the fault configuration (fields not given take their defaults)."""
        applied: dict[str, Any] = self._call("PUT", "/__admin/faults", json=faults)
        return applied

    def clear_faults(self) -> None:
        self._call("DELETE", "/__admin/faults")

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = self._http.request(method, path, json=json)
        response.raise_for_status()
        return response.json()
