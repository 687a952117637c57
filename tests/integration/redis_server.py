"""A real ``redis-server`` for the tests, on a free loopback port, started once per session.

Use it from a test module with ``pytest_plugins = ("redis_server",)`` and the ``redis_url``
fixture. No persistence (``--save '' --appendonly no``), its working directory in a temp dir,
stopped at the end of the session. A missing ``redis-server`` fails loudly: ``scripts/test``
(what ``.ci/run`` runs) installs it, so a skip would only hide a broken environment.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["free_port", "redis_url", "running_redis_server", "unreachable_redis_url"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def running_redis_server(workdir: Path, *, start_timeout_s: float = 10.0) -> Iterator[str]:
    """Start ``redis-server`` in ``workdir``; yield its ``redis://`` URL; stop it."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed (scripts/test installs it); the Redis cache tests need one")
    port = free_port()
    args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(workdir), "--logfile", str(workdir / "redis.log")]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _pong(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = workdir / "redis.log"
                pytest.fail(f"redis-server did not start on port {port}: {log.read_text() if log.exists() else ''}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def unreachable_redis_url() -> str:
    """A Redis URL on a loopback port nothing listens on (connections are refused at once)."""
    return f"redis://127.0.0.1:{free_port()}/0"
