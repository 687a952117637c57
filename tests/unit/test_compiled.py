"""The mypyc build (setup.py) and its guard against stale compiled modules (customs_sim.compiled)."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import importlib.machinery
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from customs_sim.compiled import MANIFEST, compiled_status
from customs_sim.generator import DatasetParams

ROOT = Path(__file__).resolve().parents[2]


def _setup_tuple(name: str) -> tuple[str, ...]:
    """A tuple constant of setup.py (COMPILED_MODULES, MYPY_OPTIONS), read without running setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name:
            assert node.value is not None
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple)
            return value
    raise AssertionError(f"setup.py has no {name}")


def _compiled_modules_listed() -> tuple[str, ...]:
    return _setup_tuple("COMPILED_MODULES")


def test_no_compiled_module_is_older_than_its_source() -> None:
    status = compiled_status(("customs_sim", "customs_gateway"))
    assert status.stale == (), status.summary


def test_either_every_listed_module_is_compiled_or_none() -> None:
    """A half-compiled install (some .so files lost or left over) would mix two builds."""
    listed = {path.removesuffix(".py").replace("/", ".") for path in _compiled_modules_listed()}
    compiled = set(compiled_status(("customs_sim", "customs_gateway")).compiled)
    assert compiled in (set(), listed)


def test_every_listed_module_exists_and_the_guard_itself_is_not_compiled() -> None:
    listed = _compiled_modules_listed()
    assert listed
    for path in listed:
        assert (ROOT / "src" / path).is_file(), path
    assert "customs_sim/compiled.py" not in listed  # it reads its own package's files


#: orjson 3.8.3's ``__init__.pyi`` (the version a fresh machine's image has), less its OPT_ constants.
ORJSON_3_8_3_STUB = """\
import json
from typing import Any, Callable, Optional, Union

__version__: str

def dumps(
    __obj: Any,
    default: Optional[Callable[[Any], Any]] = ...,
    option: Optional[int] = ...,
) -> bytes: ...
def loads(__obj: Union[bytes, bytearray, memoryview, str]) -> Any: ...

class JSONDecodeError(json.JSONDecodeError): ...
class JSONEncodeError(TypeError): ...
"""


@pytest.mark.slow
def test_the_build_type_check_ignores_the_packages_of_the_environment_installed_into(tmp_path: Path) -> None:
    """pip runs the build in the interpreter it installs into, and mypy reads that interpreter's
    site-packages (pip's build isolation does not hide them from it) before pip has installed the
    project's requirements: on a fresh machine the image's orjson 3.8.3, older than ``orjson.Fragment``,
    failed mypyc's type check and the install fell back to pure Python. Here a venv holds such an
    orjson and mypy runs with the build's options, told to use that venv's interpreter."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (orjson,) = (site / "orjson" for site in venv.glob("lib/python3*/site-packages"))
    orjson.mkdir()
    (orjson / "py.typed").write_text("")
    (orjson / "__init__.pyi").write_text(ORJSON_3_8_3_STUB)
    command = [
        *(sys.executable, "-m", "mypy", *_setup_tuple("MYPY_OPTIONS")),
        *(f"--python-executable={venv / 'bin' / 'python'}", f"--cache-dir={tmp_path / 'mypy_cache'}"),
        *(str(ROOT / "src" / module) for module in _compiled_modules_listed()),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dataset_params_survive_pickling() -> None:
    """A build pickles its parameters for every worker's chunk; compiled, that needs __reduce__."""
    params = DatasetParams(
        seed=11, start=dt.date(2024, 2, 28), end=dt.date(2024, 3, 2), trucks_per_day=40,
        as_of=dt.datetime(2024, 3, 2, 12, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    )  # fmt: skip
    copy = pickle.loads(pickle.dumps(params))  # noqa: S301  (our own bytes)
    assert copy == params
    assert copy.cache_key() == params.cache_key()
    assert copy.as_of == dt.datetime(2024, 3, 2, 7, tzinfo=dt.UTC)


_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package ``fakecompiled`` with a module ``sub.hot``: its .py, a (never imported) extension
    file next to it, and the manifest a build would have written."""
    package = tmp_path / "fakecompiled"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    source = package / "sub" / "hot.py"
    source.write_text("X = 1\n")
    (package / "sub" / f"hot{_SUFFIX}").write_bytes(b"not really a shared object")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    (package / MANIFEST).write_text(json.dumps({"fakecompiled.sub.hot": digest}))
    monkeypatch.syspath_prepend(str(tmp_path))
    return package


def test_a_fresh_compiled_module_is_reported_compiled(fake_package: Path) -> None:
    status = compiled_status(("fakecompiled",))
    assert status.compiled == ("fakecompiled.sub.hot",)
    assert status.stale == ()
    assert status.summary == "compiled: yes (1 modules, mypyc)"


def test_an_edited_source_makes_its_compiled_module_stale(fake_package: Path) -> None:
    (fake_package / "sub" / "hot.py").write_text("X = 2\n")
    status = compiled_status(("fakecompiled",))
    assert status.stale == ("fakecompiled.sub.hot",)
    assert "re-run `pip install -e .`" in status.summary
    assert "fakecompiled.sub.hot" in status.summary


def test_a_compiled_module_the_manifest_does_not_name_is_stale(fake_package: Path) -> None:
    (fake_package / MANIFEST).unlink()
    assert compiled_status(("fakecompiled",)).stale == ("fakecompiled.sub.hot",)


def test_without_extension_files_nothing_is_compiled(fake_package: Path) -> None:
    (fake_package / "sub" / f"hot{_SUFFIX}").unlink()
    status = compiled_status(("fakecompiled",))
    assert (status.compiled, status.stale) == ((), ())
    assert status.summary == "compiled: no (pure Python)"
