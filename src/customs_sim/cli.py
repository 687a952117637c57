"""``customs-sim``: run the simulated authorities, build datasets, print the ground truth, sign a request.

::

    customs-sim both        [dataset options] [--china-port 8101] [--kazakhstan-port 8102] [--latency-ms 30]
    customs-sim china       [dataset options] [--port 8101] …
    customs-sim kazakhstan  [dataset options] [--port 8102] …
    customs-sim build       [dataset options] [--truth]  generate (or reuse) the databases, with a progress bar
    customs-sim truth       [dataset options] [--limit N] [--crossing ID]   ground truth as JSON lines
    customs-sim sign        METHOD URL [--data JSON]     a signed curl command for the China API

Credentials and the admin token come from options or the environment (CUSTOMS_SIM_CHINA_SECRET,
CUSTOMS_SIM_KAZAKHSTAN_SECRET, CUSTOMS_SIM_ADMIN_TOKEN); the defaults are demo values.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from .china.app import ChinaSimSettings
from .china.signing import sign_headers
from .dataset import DatasetFiles, GroundTruth, build_dataset, default_cache_dir
from .generator import DatasetParams
from .kazakhstan.settings import KazakhstanSimSettings
from .servers import (
    DEFAULT_ADMIN_TOKEN,
    DEFAULT_CHINA_APP_ID,
    DEFAULT_CHINA_SECRET,
    DEFAULT_KAZAKHSTAN_CLIENT_ID,
    DEFAULT_KAZAKHSTAN_SECRET,
    SimApp,
    SimOptions,
    china_sim,
    kazakhstan_sim,
)
from .truthjson import to_json

__all__ = ["main", "params_from_args"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"the instant needs an offset, e.g. {text}+00:00")
    return value.astimezone(dt.UTC)


def _add_dataset_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dataset")
    group.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    group.add_argument("--end", type=_date, help="last day (default: today, UTC)")
    group.add_argument("--start", type=_date, help="first day (default: --days before --end)")
    group.add_argument("--days", type=int, default=90, help="days up to --end when --start is not given (default 90)")
    group.add_argument(
        "--trucks-per-day", type=int, help="mean trucks per day over all crossings (default: full volume, ~1,420)"
    )
    group.add_argument(
        "--as-of",
        type=_instant,
        help="snapshot instant, ISO-8601 with offset (default: now to the hour when --end is today, else end of --end)",
    )
    group.add_argument("--cache-dir", type=Path, help="where databases are cached (default ~/.cache/customs-sim)")


def _add_server_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="default added latency per request")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="uniform extra latency up to this")
    parser.add_argument("--admin-token", default=os.environ.get("CUSTOMS_SIM_ADMIN_TOKEN", DEFAULT_ADMIN_TOKEN))


def params_from_args(args: argparse.Namespace, now: dt.datetime | None = None) -> DatasetParams:
    """The dataset the options name: the demo one (90 days up to today) unless dates are given."""
    now = now or dt.datetime.now(dt.UTC)
    if args.start is None and args.end is None and args.days == 90 and args.as_of is None:
        demo = DatasetParams.demo(now.date(), now)
        if args.trucks_per_day is None and args.seed == demo.seed:
            return demo
    end = args.end or now.date()
    start = args.start or end - dt.timedelta(days=args.days - 1)
    if start > end:
        raise SystemExit("customs-sim: --start is after --end")
    as_of = args.as_of
    if as_of is None and end >= now.date():
        as_of = now.replace(minute=0, second=0, microsecond=0)
    return DatasetParams(seed=args.seed, start=start, end=end, trucks_per_day=args.trucks_per_day, as_of=as_of)


def _dataset(args: argparse.Namespace, *, truth: bool = False) -> DatasetFiles:
    params = params_from_args(args)
    cache_dir = args.cache_dir or default_cache_dir()
    print(f"dataset: {params.start} .. {params.end}, seed {params.seed}, cache {cache_dir}", file=sys.stderr)
    return build_dataset(params, cache_dir, progress=True, truth=truth)


def _china(files: DatasetFiles, options: SimOptions) -> SimApp:
    settings = ChinaSimSettings(
        db_path=files.china_db,
        app_id=os.environ.get("CUSTOMS_SIM_CHINA_APP_ID", DEFAULT_CHINA_APP_ID),
        app_secret=os.environ.get("CUSTOMS_SIM_CHINA_SECRET", DEFAULT_CHINA_SECRET),
    )
    return china_sim(settings, options)


def _kazakhstan(files: DatasetFiles, options: SimOptions, token_lifetime_s: float) -> SimApp:
    settings = KazakhstanSimSettings(
        db_path=files.kazakhstan_db,
        client_id=os.environ.get("CUSTOMS_SIM_KAZAKHSTAN_CLIENT_ID", DEFAULT_KAZAKHSTAN_CLIENT_ID),
        client_secret=os.environ.get("CUSTOMS_SIM_KAZAKHSTAN_SECRET", DEFAULT_KAZAKHSTAN_SECRET),
        token_lifetime_s=token_lifetime_s,
    )
    return kazakhstan_sim(settings, options)


async def _serve_all(servers: Sequence[tuple[Any, str, int]]) -> None:
    configs = [
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
        for app, host, port in servers
    ]
    await asyncio.gather(*(server.serve() for server in configs))


def _options(args: argparse.Namespace) -> SimOptions:
    return SimOptions(admin_token=args.admin_token, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms)


def _run_servers(args: argparse.Namespace) -> int:
    files = _dataset(args)
    options = _options(args)
    servers: list[tuple[Any, str, int]] = []
    if args.command in ("china", "both"):
        port = args.port if args.command == "china" else args.china_port
        servers.append((_china(files, options).app, args.host, port))
        print(f"China (GACC) simulator:      http://{args.host}:{port}/gacc/api/v1/  (OpenAPI: /openapi.json)")
    if args.command in ("kazakhstan", "both"):
        port = args.port if args.command == "kazakhstan" else args.kazakhstan_port
        servers.append((_kazakhstan(files, options, args.token_lifetime_s).app, args.host, port))
        print(f"Kazakhstan (KGD) simulator:  http://{args.host}:{port}/api/v1/  (XSD: /schema/kgd.xsd)")
    print("admin: /__admin/counters, /__admin/faults (header X-Admin-Token)", flush=True)
    # uvloop where installed (uvicorn[standard] brings it), as the gateway runs: the default loop's
    # selector, handles and transports were ~1/5 of the simulators' CPU when a cold report pages
    # through ~2,800 lists.
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve_all(servers))
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] depends on it where it builds
        return None
    return uvloop.new_event_loop


def _truth(args: argparse.Namespace) -> int:
    files = _dataset(args, truth=True)
    truth = GroundTruth(files)
    printed = 0
    out = sys.stdout.buffer
    for trip in truth.trips():
        if args.crossing and trip.crossing != args.crossing:
            continue
        out.write(to_json(trip) + b"\n")
        printed += 1
        if args.limit and printed >= args.limit:
            break
    out.flush()
    return 0


def _sign(args: argparse.Namespace) -> int:
    import httpx  # only this command needs it

    url = httpx.URL(args.url)
    body = args.data.encode() if args.data else b""
    query = [(key, value) for key, value in url.params.multi_items()]
    headers = sign_headers(args.app_id, args.secret, args.method.upper(), url.raw_path.split(b"?")[0].decode(),
                           query, body)
    parts = ["curl", "-sS", "-X", args.method.upper()]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    if body:
        parts += ["-H", "Content-Type: application/json", "--data", args.data]
    parts.append(str(url))
    print(shlex.join(parts))
    return 0


def _build(args: argparse.Namespace) -> int:
    files = _dataset(args, truth=args.truth)
    later = "" if files.truth_db.is_file() else "  (built on first use, or now with --truth)"
    print(f"china:      {files.china_db}\nkazakhstan: {files.kazakhstan_db}\ntruth:      {files.truth_db}{later}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customs-sim", description="Simulated GACC and KGD customs APIs.")
    commands = parser.add_subparsers(dest="command", required=True)

    china = commands.add_parser("china", help="serve the China (GACC) simulator")
    _add_dataset_options(china)
    _add_server_options(china, 8101)

    kazakhstan = commands.add_parser("kazakhstan", help="serve the Kazakhstan (KGD) simulator")
    _add_dataset_options(kazakhstan)
    _add_server_options(kazakhstan, 8102)
    kazakhstan.add_argument("--token-lifetime-s", type=float, default=900.0)

    both = commands.add_parser("both", help="serve both simulators from one process")
    _add_dataset_options(both)
    _add_server_options(both, 0)
    both.add_argument("--china-port", type=int, default=8101)
    both.add_argument("--kazakhstan-port", type=int, default=8102)
    both.add_argument("--token-lifetime-s", type=float, default=900.0)

    build = commands.add_parser("build", help="generate (or reuse) a dataset's databases")
    _add_dataset_options(build)
    build.add_argument("--truth", action="store_true", help="also the ground-truth store (else built on first use)")

    truth = commands.add_parser("truth", help="print the ground truth as JSON lines")
    _add_dataset_options(truth)
    truth.add_argument("--limit", type=int, default=0, help="stop after N trips (0: all)")
    truth.add_argument("--crossing", help="only this crossing (KHORGOS, ALASHANKOU, BAKHTY, DULATA, JEMINAY)")

    sign = commands.add_parser("sign", help="print a signed curl command for the China API")
    sign.add_argument("method", help="GET or POST")
    sign.add_argument("url", help="full URL with query, e.g. http://127.0.0.1:8101/gacc/api/v1/ports")
    sign.add_argument("--data", help="JSON body for POST")
    sign.add_argument("--app-id", default=os.environ.get("CUSTOMS_SIM_CHINA_APP_ID", DEFAULT_CHINA_APP_ID))
    sign.add_argument("--secret", default=os.environ.get("CUSTOMS_SIM_CHINA_SECRET", DEFAULT_CHINA_SECRET))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("china", "kazakhstan", "both"):
        return _run_servers(args)
    if args.command == "truth":
        return _truth(args)
    if args.command == "sign":
        return _sign(args)
    return _build(args)


if __name__ == "__main__":
    raise SystemExit(main())
