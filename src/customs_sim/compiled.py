"""Which modules run compiled (mypyc), and whether a compiled one is older than its source.

``setup.py`` compiles a listed set of modules when the package is installed; an editable install
leaves each ``.so`` next to its ``.py`` in ``src/``, where it shadows the source. A developer who
edits ``generator.py`` without re-running ``pip install -e .`` would then run the *old* generator
without any sign of it. So the build records each compiled source's sha256 in
``<package>/compiled_sources.json``, and :func:`compiled_status` compares the ``.py`` next to every
extension module with it. A unit test fails on a stale module and ``benchmarks/simulators.py``
prints the status with its figures.

Pure Python (``CUSTOMS_PURE_PYTHON=1``, a failed compilation, a worktree on ``PYTHONPATH``) has no
extension modules: nothing is compiled, nothing is stale. This module finds the files without
importing the modules they hold, and is itself never compiled (it reads its own package's files).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MANIFEST", "CompiledStatus", "compiled_status"]

MANIFEST = "compiled_sources.json"
REBUILD = "re-run `pip install -e .` (or CUSTOMS_PURE_PYTHON=1 pip install -e . for pure Python)"


@dataclass(frozen=True, slots=True)
class CompiledStatus:
    compiled: tuple[str, ...]  # modules whose extension module shadows the .py
    stale: tuple[str, ...]  # of those, the ones whose .py changed since it was compiled

    @property
    def summary(self) -> str:
        """``compiled: yes (N modules)``, ``compiled: no (pure Python)`` or what is stale and the fix."""
        if self.stale:
            return f"compiled: STALE ({', '.join(self.stale)} changed since compiled): {REBUILD}"
        if self.compiled:
            return f"compiled: yes ({len(self.compiled)} modules, mypyc)"
        return "compiled: no (pure Python)"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _package_roots(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def _extension_modules(package: str, root: Path) -> Iterable[tuple[str, Path]]:
    """(module name, source file) of every extension module under ``root`` (``package``'s directory)."""
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)  # ".cpython-311-….so" first
    for extension in sorted(root.rglob("*")):
        suffix = next((s for s in suffixes if extension.name.endswith(s)), None)
        if suffix is None or not extension.is_file():
            continue
        stem = extension.name.removesuffix(suffix)
        if stem.endswith("__mypyc"):
            continue  # mypyc's shared runtime of a separately compiled group, not a module of ours
        relative = extension.parent.relative_to(root).parts
        yield ".".join((package, *relative, stem)), extension.with_name(stem + ".py")


def compiled_status(packages: Iterable[str] = ("customs_sim",)) -> CompiledStatus:
    """The compiled modules of ``packages`` (top-level package names) and the stale ones.

    A module is stale when its ``.py`` no longer has the sha256 its package's manifest recorded at
    compile time, or when the manifest does not name it (an extension file of unknown origin).
    """
    compiled: list[str] = []
    stale: list[str] = []
    for package in packages:
        for root in _package_roots(package):
            manifest = root / MANIFEST
            recorded: dict[str, str] = json.loads(manifest.read_text()) if manifest.is_file() else {}
            for module, source in _extension_modules(package, root):
                compiled.append(module)
                if source.is_file() and recorded.get(module) != _sha256(source):
                    stale.append(module)
    return CompiledStatus(tuple(compiled), tuple(stale))
