"""``customs-gateway``: run the demo, serve in production, export the schema.

::

    customs-gateway demo                       both simulators (demo latency) + gateway + GraphiQL
    customs-gateway serve [--config PATH]      production entry point (uvicorn; [server] workers)
    customs-gateway export-schema [--check]    write (or verify) schema.graphql
    customs-gateway hash-key [--stdin]         make an API key and its config entry (or hash a key)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .config import CONFIG_ENV, load_settings
from .observability import configure_logging
from .schema import build_schema
from .security import Role
from .security.apikeys import hash_key, new_key

__all__ = ["app_factory", "demo_banner", "demo_security", "main", "schema_sdl"]

DEMO_CHINA_SECRET = "cn-demo-secret"  # noqa: S105 - the simulators' demo credentials, not a real secret
DEMO_KAZAKHSTAN_SECRET = "kz-demo-secret"  # noqa: S105

EXAMPLE_QUERY = """\
{
  crossingPoints { id phase china { name } kazakhstan { name } }
  manifests(first: 3) {
    edges { node { id direction status crossingPoint { id } vehicle { plate { native latin } } } }
  }
}"""


def app_factory() -> Starlette:
    """The app from the environment and config file: what each uvicorn worker imports.

    Logging is configured here, in the worker, because uvicorn starts workers as fresh processes;
    lines are written by a thread of their own, off the event loop (``observability.background``).
    """
    configure_logging(background=True)
    return create_app(load_settings())


def schema_sdl() -> str:
    return str(build_schema()).rstrip("\n") + "\n"


def _export_schema(args: argparse.Namespace) -> int:
    sdl = schema_sdl()
    path: Path = args.output
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != sdl:
            print(f"{path} is out of date: run `customs-gateway export-schema`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.write_text(sdl, encoding="utf-8")
    print(f"wrote {path} ({len(sdl.splitlines())} lines)")
    return 0


def _hash_key(args: argparse.Namespace) -> int:
    """A new key (printed once: only its digest goes in the configuration), or the digest of a key
    read from standard input (so it never shows in the shell history or the process list)."""
    if args.stdin:
        key = sys.stdin.readline().strip()
        if not key:
            print("no key on standard input", file=sys.stderr)
            return 2
    else:
        key = new_key()
        print(f"API key (give it to the client; it is not stored anywhere):\n\n  {key}\n", file=sys.stderr)
    entry = [
        "[[security.api_keys]]",
        f'client_id = "{args.client_id}"',
        f'role = "{args.role}"',
        f'key_hash = "{hash_key(key)}"',
    ]
    if args.carrier_id:
        entry.append(f'carrier_id = "{args.carrier_id}"')
    print("\n".join(entry))
    return 0


def _demo_keys() -> dict[Role, str]:
    """One fresh API key per non-carrier role, so the demo can show the field rules at work."""
    return {role: new_key() for role in Role if role not in (Role.CARRIER, Role.DEMO)}


def demo_security(keys: dict[Role, str]) -> dict[str, object]:
    """The demo's ``[security]``: anonymous requests get the read-only ``demo`` role; ``keys``
    (made for this run) are accepted for their roles; introspection is on (GraphiQL needs it)."""
    return {
        "anonymous_role": Role.DEMO.value,
        "introspection": True,
        "api_keys": [
            {"client_id": f"demo-{role.value}", "role": role.value, "key_hash": hash_key(key)}
            for role, key in keys.items()
        ],
    }


def demo_banner(keys: dict[Role, str]) -> str:
    """What the demo says at startup about access: anonymous access is on, and how to try a role."""
    key_lines = "\n".join(f"  {role.value:<20} X-API-Key: {key}" for role, key in keys.items())
    return (
        "\nDEMO MODE: anonymous access is ON, as the read-only role `demo` (no drivers' personal data,\n"
        "no internal notes). Production refuses requests without credentials (docs/security.md).\n"
        "To see the field rules at work, send one of these keys (made for this run only) in\n"
        f'GraphiQL\'s Headers tab as {{"X-API-Key": "…"}}:\n{key_lines}\n'
    )


def _serve(args: argparse.Namespace) -> int:
    if args.config is not None:
        if not args.config.is_file():
            print(f"configuration file not found: {args.config}", file=sys.stderr)
            return 2
        os.environ[CONFIG_ENV] = str(args.config)
    settings = load_settings()
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    workers = args.workers or settings.server.workers
    uvicorn.run(
        "customs_gateway.cli:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(settings.server.forwarded_allow_ips),
        forwarded_allow_ips=settings.server.forwarded_allow_ips or None,
        log_level=args.log_level,
        access_log=False,
        log_config=None,  # uvicorn's own lines go to the root logger: JSON like ours
    )
    return 0


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("customs-gateway: the simulators stopped while starting (see above)")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"customs-gateway: no answer from {url} after {timeout_s:.0f} s")


def _demo(args: argparse.Namespace) -> int:
    host = "127.0.0.1"
    command = [
        sys.executable, "-m", "customs_sim.cli", "both",
        "--host", host,
        "--china-port", str(args.china_port),
        "--kazakhstan-port", str(args.kazakhstan_port),
        "--latency-ms", str(args.latency_ms),
        "--jitter-ms", str(args.jitter_ms),
    ]  # fmt: skip
    if args.trucks_per_day:
        command += ["--trucks-per-day", str(args.trucks_per_day)]
    env = {
        **os.environ,
        "CUSTOMS_SIM_CHINA_SECRET": DEMO_CHINA_SECRET,
        "CUSTOMS_SIM_KAZAKHSTAN_SECRET": DEMO_KAZAKHSTAN_SECRET,
    }
    print("Starting the simulated authorities (the first run generates the 90-day demo dataset)…", flush=True)
    simulators = subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter and module
    try:
        _wait_for(f"http://{host}:{args.china_port}/openapi.json", simulators, args.startup_timeout_s)
        _wait_for(f"http://{host}:{args.kazakhstan_port}/schema/kgd.xsd", simulators, args.startup_timeout_s)
        os.environ.setdefault("CUSTOMS_GATEWAY_CHINA__APP_SECRET", DEMO_CHINA_SECRET)
        os.environ.setdefault("CUSTOMS_GATEWAY_KAZAKHSTAN__CLIENT_SECRET", DEMO_KAZAKHSTAN_SECRET)
        # Nested overrides merge into the file's sections (pydantic-settings deep-merges sources).
        keys = _demo_keys()
        settings = load_settings(
            china={"base_url": f"http://{host}:{args.china_port}"},
            kazakhstan={"base_url": f"http://{host}:{args.kazakhstan_port}"},
            security=demo_security(keys),
        )
        configure_logging(background=True)
        app = create_app(settings)
        print(
            demo_banner(keys),
            f"\nGraphiQL:            http://{host}:{args.port}/graphql\n"
            f"China simulator:     http://{host}:{args.china_port}/gacc/api/v1/ports (signed; see README)\n"
            f"Kazakhstan sim.:     http://{host}:{args.kazakhstan_port}/api/v1/checkpoints (OAuth2)\n"
            f"\nTry this query in GraphiQL:\n\n{EXAMPLE_QUERY}\n",
            sep="",
            flush=True,
        )
        uvicorn.run(app, host=host, port=args.port, log_level="warning", access_log=False, log_config=None)
    finally:
        simulators.terminate()
        simulators.wait(timeout=10)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customs-gateway", description="GraphQL gateway over GACC and KGD.")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run both simulators and the gateway with GraphiQL")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--china-port", type=int, default=8101)
    demo.add_argument("--kazakhstan-port", type=int, default=8102)
    demo.add_argument("--latency-ms", type=float, default=30.0, help="simulated network latency (default 30)")
    demo.add_argument("--jitter-ms", type=float, default=15.0)
    demo.add_argument("--trucks-per-day", type=int, help="smaller dataset than full volume (faster first start)")
    demo.add_argument("--startup-timeout-s", type=float, default=600.0)

    serve = commands.add_parser("serve", help="serve the gateway (production)")
    serve.add_argument("--config", type=Path, help="TOML configuration (default config/gateway.toml)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--log-level", default="info")

    hashing = commands.add_parser("hash-key", help="make an API key and its [[security.api_keys]] entry")
    hashing.add_argument("--stdin", action="store_true", help="hash the key read from standard input instead")
    hashing.add_argument("--client-id", default="my-client", help="the name of the client (audit, rate limits)")
    roles = [r.value for r in Role if r is not Role.DEMO]
    hashing.add_argument("--role", default=Role.PARTNER_AGENCY.value, choices=roles)
    hashing.add_argument("--carrier-id", help="for --role carrier: the carrier's USCC / BIN")

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", type=Path, default=Path("schema.graphql"))
    export.add_argument("--check", action="store_true", help="exit 1 when the file differs instead of writing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "hash-key":
        return _hash_key(args)
    return _export_schema(args)


if __name__ == "__main__":
    raise SystemExit(main())
