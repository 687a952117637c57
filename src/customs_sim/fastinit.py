"""Cheaper constructors for the model's frozen, slotted dataclasses, for the generator's hot path.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (the class's own
``__setattr__`` refuses): a type lookup and a slot-wrapper call per field, ~30 per Trip and ~100 per
trip of a dataset build, about a fifth of generating it. :func:`constructor` returns a function
that makes the same object (``object.__new__``, then each slot's own setter, the member
descriptor's ``__set__``, in field order), at about half the cost. It is only for classes whose
``__init__`` does nothing else: no ``__post_init__``, no ``InitVar``, no ``default_factory``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["constructor"]

T = TypeVar("T")


def constructor(cls: type[T]) -> Callable[..., T]:
    """A function taking ``cls``'s fields (positionally, in order) that returns ``cls(...)``'s equal."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: only a dataclass without __post_init__")
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params = []
    for i, field in enumerate(fields):
        if field.default_factory is not dataclasses.MISSING or not field.init:
            raise TypeError(f"{cls.__name__}.{field.name}: default factories and non-init fields are not supported")
        namespace[f"_set{i}"] = getattr(cls, field.name).__set__  # the slot's member descriptor
        if field.default is dataclasses.MISSING:
            params.append(field.name)
        else:
            namespace[f"_default{i}"] = field.default
            params.append(f"{field.name}=_default{i}")
    body = "".join(f"    _set{i}(obj, {field.name})\n" for i, field in enumerate(fields))
    source = f"def make({', '.join(params)}):\n    obj = _new(_cls)\n{body}    return obj\n"
    exec(source, namespace)  # noqa: S102  (our own source text, built from the class's field names)
    make: Callable[..., T] = namespace["make"]
    make.__qualname__ = make.__name__ = f"new_{cls.__name__}"
    return make
