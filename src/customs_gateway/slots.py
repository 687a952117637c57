"""Setting a frozen, slotted dataclass's fields from a compiled hot path, without its ``__init__``.

A frozen dataclass's generated ``__init__`` is interpreted and sets each field through
``object.__setattr__``, which checks its arguments and looks the attribute up before it reaches
the slot's member descriptor. The scan path (compiled by mypyc) makes tens of thousands of
``PlateId`` and ``TripGap`` objects in a cold report, and sets their slots through the
descriptors' ``__set__`` directly: about half the instructions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["slot_setter"]

T = TypeVar("T")


def slot_setter(cls: type[T], field: str) -> Callable[[T, object], None]:
    """The ``__set__`` of ``cls``'s slot ``field``: where ``object.__setattr__`` ends up.

    Only for classes whose ``__init__`` does nothing but set the fields (no defaults, factories
    or ``__post_init__``); each caller's tests compare its field list and the objects it makes
    with the constructor's.
    """
    setter: Callable[[T, object], None] = vars(cls)[field].__set__
    return setter
