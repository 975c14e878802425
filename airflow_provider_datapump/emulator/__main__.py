"""Command line: ``python -m airflow_provider_datapump.emulator`` / ``datapump-emulator``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from .auth import DEFAULT_CLIENTS, DEFAULT_USERS
from .settings import OUTCOMES
from .versions import DEFAULT_ORDS_VERSION, MODELLED_VERSIONS

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="datapump-emulator",
        description="Local emulator of the ORDS Database API Data Pump endpoints (not Oracle).",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free port)")
    p.add_argument("--data-dir", help="where directory objects and dump files live (default: a temp dir)")
    p.add_argument("--catalog", help="JSON file with the schemas and tables to start with")
    p.add_argument(
        "--ords-version",
        choices=MODELLED_VERSIONS,
        default=None,
        help=f"ORDS release whose endpoints and request keys to model (default {DEFAULT_ORDS_VERSION}; "
        "'next' is a release newer than any documented one, whose import declares table_exists_action)",
    )
    p.add_argument(
        "--openapi",
        metavar="FILE|none",
        default=None,
        help="serve this OpenAPI file as the server's description (its declared create keys are then the "
        "keys used), or 'none' for an ORDS that describes nothing (default: the release's own description)",
    )
    p.add_argument("--job-seconds", type=float, default=None, help="how long each job runs (default 1.0)")
    p.add_argument("--outcome", choices=OUTCOMES, default=None, help="how jobs end (default success)")
    p.add_argument("--dump-size", type=int, default=None, help="bytes per dump file (default: natural size)")
    p.add_argument(
        "--token-ttl", type=float, default=None, help="OAuth token lifetime in seconds (default 3600)"
    )
    p.add_argument("--range-support", action="store_true", help="honour Range on file downloads")
    p.add_argument("--link-origin", default=None, help="origin used in links, e.g. https://db.example.com")
    p.add_argument(
        "--object-store",
        metavar="DIR",
        default=None,
        help="folder standing for the object store, shared with other emulators (default: this process only)",
    )
    p.add_argument(
        "--no-rest-enabled-sql",
        action="store_true",
        help="answer 404 at {alias}/_/sql, as ORDS with restEnabledSql.active=false",
    )
    p.add_argument("--db-unique-name", default=None, help="SYS_CONTEXT('USERENV','DB_UNIQUE_NAME')")
    p.add_argument("--con-name", default=None, help="SYS_CONTEXT('USERENV','CON_NAME')")
    p.add_argument("--certfile", help="TLS certificate (PEM) to serve https")
    p.add_argument("--keyfile", help="TLS private key (PEM)")
    p.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug", "trace"]
    )
    p.add_argument(
        "--access-log", action="store_true", help="log every request (paths only, never credentials)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if bool(args.certfile) != bool(args.keyfile):
        print("--certfile and --keyfile go together", file=sys.stderr)
        return 2

    import uvicorn

    from .app import create_app
    from .server import bind_socket, url_host
    from .state import EmulatorState

    settings: dict[str, Any] = {}
    # CLI option -> setting; a flag (store_true) sets the value on the right when given.
    options = {
        "ords_version": "ords_version",
        "job_seconds": "duration",
        "outcome": "outcome",
        "dump_size": "dump_size",
        "token_ttl": "token_ttl",
        "link_origin": "link_origin",
        "object_store": "object_store_dir",
        "db_unique_name": "db_unique_name",
        "con_name": "con_name",
    }
    for option, key in options.items():
        value = getattr(args, option)
        if value is not None and value != "":
            settings[key] = value
    flags = {"range_support": ("range_support", True), "no_rest_enabled_sql": ("rest_enabled_sql", False)}
    for option, (key, value) in flags.items():
        if getattr(args, option):
            settings[key] = value
    if args.openapi == "none":
        settings["openapi"] = "none"
    elif args.openapi:
        try:
            with open(args.openapi, encoding="utf-8") as fh:
                settings["openapi"] = json.load(fh)
        except (OSError, ValueError) as exc:
            print(f"datapump-emulator: cannot read --openapi {args.openapi}: {exc}", file=sys.stderr)
            return 2
    try:
        state = EmulatorState(data_dir=args.data_dir, catalog=args.catalog, **settings)
    except Exception as exc:
        print(f"datapump-emulator: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"datapump-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        state.close()
        return 1
    port = sock.getsockname()[1]
    scheme = "https" if args.certfile else "http"
    user, password = next(iter(DEFAULT_USERS.items()))
    client_id, client = next(iter(DEFAULT_CLIENTS.items()))
    base = f"{scheme}://{url_host(args.host)}:{port}/ords/{user}"
    print(f"Data Pump emulator (not Oracle) listening on {scheme}://{url_host(args.host)}:{port}", flush=True)
    print(f"Base URL:     {base}", flush=True)
    print(f"Data Pump:    {base}/_/db-api/stable/database/datapump/jobs/", flush=True)
    if state.settings["rest_enabled_sql"]:
        print(f"REST SQL:     POST {base}/_/sql", flush=True)
    if state.settings["object_store_dir"]:
        print(f"Object store: {state.settings['object_store_dir']} (shared)", flush=True)
    print(f"Basic auth:   {user} / {password}", flush=True)
    print(f"OAuth2:       POST {base}/oauth/token  client {client_id} / {client['secret']}", flush=True)
    print(f"Data dir:     {state.data_dir}", flush=True)
    print(
        f"Controls:     {scheme}://{url_host(args.host)}:{port}/_emulator/  (catalog, scenario, faults, requests, reset)",
        flush=True,
    )

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises SIGINT/SIGTERM after shutdown, which would kill the
            # process before the data directory is cleaned up; exit normally instead.
            with super().capture_signals():
                try:
                    yield
                finally:
                    self._captured_signals.clear()

    config = uvicorn.Config(
        create_app(state),
        log_level=args.log_level,
        access_log=args.access_log,
        lifespan="off",
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        timeout_graceful_shutdown=3,
    )
    try:
        _Server(config).run(sockets=[sock])
    finally:
        sock.close()
        state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
