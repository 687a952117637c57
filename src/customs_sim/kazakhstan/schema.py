"""The XSD of every document the simulator sends, shipped as package data."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

__all__ = ["kgd_xsd"]


@cache
def kgd_xsd() -> bytes:
    return files("customs_sim.kazakhstan").joinpath("kgd.xsd").read_bytes()
