"""Compile the dataset build's hot modules with mypyc when the package is built (docs/datasets.md).

Everything else about the package is declared in ``pyproject.toml``; this file only adds the
compiled extensions. Why: a demo build spends its CPU in interpreted Python spread thin over the
trips' generation and the two authorities' renderers (no function above ~5 % of a profile), so no
single cut is left; the same modules compiled by mypyc (they are ``mypy --strict`` clean) cost ~11 %
fewer instructions and ~10-20 % less CPU, and write the same bytes (``tests/unit/test_dataset_golden.py``).

- ``pip install .`` and ``pip install -e .`` compile :data:`COMPILED_MODULES` by default (mypy is in
  ``[build-system] requires``); an editable install leaves the ``.so`` files next to the sources.
- ``CUSTOMS_PURE_PYTHON=1`` at install time skips compilation and removes the compiled files an
  earlier editable install left in ``src/`` (they would shadow the ``.py`` files).
- A failed compilation (no C compiler, no Python headers, a mypyc error) warns and installs pure
  Python: the package works either way, only slower.
- Each compiled source's sha256 is recorded in ``<package>/compiled_sources.json``;
  :mod:`customs_sim.compiled` compares it with the ``.py`` next to each ``.so`` and reports a stale
  module ("re-run pip install -e ."), which a unit test and ``benchmarks/simulators.py`` check.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_ext import build_ext

SRC = Path(__file__).resolve().parent / "src"

#: Modules compiled with mypyc, relative to ``src/`` (the one list; extend it here). Each must be
#: ``mypy --strict`` clean and must not be monkeypatched by tests or pickled as a class instance
#: (compiled classes are native; see docs/datasets.md).
COMPILED_MODULES: tuple[str, ...] = (
    "customs_sim/generator.py",  # the trips' generation: about half of a build worker's CPU
    "customs_sim/people.py",  # the per-seed pools each worker builds (thousands of random draws)
    "customs_sim/plates.py",  # plates as each side writes them, twice a trip
    "customs_sim/rates.py",  # currency conversions of every goods line
    "customs_sim/catalog.py",  # the goods drawn for every trip
    "customs_sim/iso6346.py",  # container numbers and their check digits
    "customs_sim/clocktext.py",  # local date and time texts of both renderers
    "customs_sim/memo.py",  # the renderers' identity memos, called for every pooled object
    "customs_sim/china/render.py",  # the GACC documents: about a fifth of a worker's CPU
    "customs_sim/kazakhstan/render.py",  # the KGD records around the PI document
    "customs_sim/kazakhstan/pi_doc.py",  # the PI document: the largest part of the Kazakh render
    "customs_sim/kazakhstan/xmltext.py",  # the XML text forms the Kazakh render joins
    # A cold report's scan path (docs/reports.md, "Where a cold report's CPU goes"): compiled, a
    # scan worker runs ~17 % fewer instructions a record (benchmarks/scan_chunks.py under callgrind).
    "customs_gateway/sources/kazakhstan/scan.py",  # KGD pages: the records read off the recognizer's groups
    "customs_gateway/sources/china/scan.py",  # GACC manifests read off orjson's dicts: the largest share
    "customs_gateway/reports/scan.py",  # every record folded into its chunk's sums; door-to-door linking
    "customs_gateway/reports/valuation_fold.py",  # every linked trip valued in cents
    "customs_gateway/reports/valuation.py",  # the valuation partial's records, made and encoded per chunk
    "customs_gateway/reports/partials.py",  # minutes per trip; partials encoded per chunk, decoded per report
    "customs_gateway/money.py",  # parse_minor and usd_minor for every goods line
    "customs_gateway/plates.py",  # every record's plate parsed (tens of thousands distinct in 90 days)
)
# Not compiled: customs_sim/model.py. Its frozen dataclasses would become native classes, which
# mypyc cannot unpickle (their __setstate__ goes through the frozen __setattr__) and which
# customs_sim.fastinit cannot build; compiling it too saved only 2.7 % more of a worker's instructions.

#: mypy options for the compilation only: no project config (its plugins, pydantic's and
#: strawberry's, are not in pip's isolated build environment) and every third-party package taken as
#: ``Any`` (calls into them go through the generic C API anyway). ``--no-site-packages`` because mypy
#: otherwise reads the site-packages of the environment being installed into, which pip's isolation
#: does not hide, and whose packages predate this install's requirements: on a fresh machine the
#: image's orjson 3.8.3 (no ``orjson.Fragment``, pyproject asks >=3.9) failed the type check and the
#: install fell back to pure Python; a second install, after pip had upgraded orjson, compiled.
MYPY_OPTIONS: tuple[str, ...] = (
    "--config-file=",
    "--no-site-packages",
    "--ignore-missing-imports",
    "--follow-imports=silent",
)

#: mypyc's C optimization level (gcc -O); see docs/datasets.md for what each level costs to compile.
OPT_LEVEL = os.environ.get("CUSTOMS_MYPYC_OPT_LEVEL", "3")
MANIFEST = "compiled_sources.json"
PURE = os.environ.get("CUSTOMS_PURE_PYTHON", "").strip() not in ("", "0", "false", "no")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _packages() -> set[str]:
    return {module.split("/", 1)[0] for module in COMPILED_MODULES}


def remove_compiled_from_src() -> list[Path]:
    """Delete the extension files and manifests an earlier editable build left in ``src/``."""
    removed = []
    for package in _packages() | {"customs_sim", "customs_gateway"}:
        root = SRC / package
        if not root.is_dir():
            continue
        for path in [*root.rglob("*.so"), *root.rglob("*.pyd"), root / MANIFEST]:
            if path.is_file():
                path.unlink()
                removed.append(path)
    for path in [*SRC.glob("*__mypyc*.so"), *SRC.glob("*__mypyc*.pyd")]:  # mypyc's shared runtime
        path.unlink()
        removed.append(path)
    return removed


def write_manifests(target: Path) -> None:
    """``<package>/compiled_sources.json`` under ``target``: module name -> sha256 of its source."""
    for package in _packages():
        entries = {
            module.removesuffix(".py").replace("/", "."): _sha256(SRC / module)
            for module in COMPILED_MODULES
            if module.startswith(package + "/")
        }
        directory = target / package
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MANIFEST).write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")


def _warn(message: str) -> None:
    # pip shows a build backend's stderr only with -v or on failure; the banner makes it stand out
    # in the verbose log, and customs_sim.compiled / benchmarks/simulators.py say "compiled: no".
    print(f"\n*** customs-gateway: {message}\n", file=sys.stderr, flush=True)


class MypycBuildExt(build_ext):
    """``build_ext`` that compiles :data:`COMPILED_MODULES`, and falls back to pure Python."""

    def run(self) -> None:
        editable = bool(self.inplace or self.editable_mode)
        if editable:
            # Compiled files in src/ from an earlier install (another module list, or now a pure
            # install) must not shadow the sources; a successful compile writes its own again.
            remove_compiled_from_src()
        if PURE:  # only reached when some other tool calls build_ext anyway
            return
        began = time.monotonic()
        try:
            self._compile()
        except (Exception, SystemExit) as exc:  # no mypy, a mypyc error (it exits), no C compiler or headers
            self.extensions = []
            self.distribution.ext_modules = []
            if editable:
                remove_compiled_from_src()  # a half-copied set would mix compiled and pure modules
            why = "mypy's errors above" if isinstance(exc, SystemExit) else repr(exc)
            _warn(f"mypyc compilation failed, installing pure Python (slower dataset builds): {why}")
            return
        write_manifests(SRC if editable else Path(self.build_lib))
        print(f"customs-gateway: compiled {len(COMPILED_MODULES)} modules in {time.monotonic() - began:.0f} s")

    def _compile(self) -> None:
        # mypyc runs here, not when setup.py is imported nor in finalize_options: pip runs setup.py
        # three times (build requirements, metadata, build) and egg_info finalizes build_ext too.
        from mypyc.build import mypycify

        self.distribution.ext_modules = mypycify(
            [*MYPY_OPTIONS, *(str(SRC / module) for module in COMPILED_MODULES)],
            opt_level=OPT_LEVEL,
            group_name="customs_mypyc",
        )
        # setuptools' finalize_options annotates each extension (full name, stubs): run it again,
        # from fresh options (distutils' finalize converts some in place), keeping the mode set on us.
        inplace, editable_mode = self.inplace, self.editable_mode
        self.initialize_options()
        self.inplace, self.editable_mode = inplace, editable_mode
        self.parallel = os.cpu_count() or 1
        self.finalized = False
        self.ensure_finalized()
        super().run()


class MaybeBinaryDistribution(Distribution):
    """Runs ``build_ext`` (and tags the wheel for this platform) unless the install is pure."""

    def has_ext_modules(self) -> bool:
        return not PURE


if PURE:
    # build_ext does not run for a pure build (no extensions): the files an earlier editable
    # install compiled into src/ are removed here, or they would go on shadowing the sources.
    remove_compiled_from_src()
setup(cmdclass={"build_ext": MypycBuildExt}, distclass=MaybeBinaryDistribution)
