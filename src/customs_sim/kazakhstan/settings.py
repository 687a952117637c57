"""Typed settings of the Kazakhstan simulator, read once by :func:`create_kazakhstan_app`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KazakhstanSimSettings"]


@dataclass(frozen=True, slots=True)
class KazakhstanSimSettings:
    """``db_path`` is a database built by :class:`~customs_sim.kazakhstan.store.KazakhstanStoreWriter`.

    ``clock`` (seconds, any epoch) drives token expiry; tests inject a fake one.
    """

    db_path: Path
    client_id: str
    client_secret: str = field(repr=False)
    token_lifetime_s: float = 900.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    max_tokens: int = 10_000
    expired_token_grace_s: float = 3_600.0

    def __post_init__(self) -> None:
        if self.token_lifetime_s <= 0:
            raise ValueError("token_lifetime_s must be positive")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
