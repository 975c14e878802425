"""The emulator in its own process, with more ORDS users and a longer request log than its command line offers.

``python bench/_emulator.py USERS REQUEST_LOG_SIZE [SETTINGS_JSON]`` starts the emulator (its public
``EmulatorState`` and ``create_app``, as its command line does) with the default user plus USERS more
(``bench_u001`` ... with their own passwords, each its own ORDS user, schema alias and job owner), and
a request log that keeps REQUEST_LOG_SIZE entries: the waiting benchmark counts every request of a
minute of 10,000 waiting jobs, more than the default 10,000 entries. Prints the line ``listening on URL``.
"""

from __future__ import annotations

import json
import sys


def bench_users(n: int) -> dict[str, str]:
    return {f"bench_u{i:03d}": f"BenchUserPassword{i:03d}" for i in range(1, n + 1)}


def main(users: str, log_size: str, settings: str = "{}") -> None:
    import uvicorn

    from airflow_provider_datapump.emulator.app import create_app
    from airflow_provider_datapump.emulator.server import bind_socket
    from airflow_provider_datapump.emulator.state import DEFAULT_USERS, EmulatorState

    extra = bench_users(int(users))
    state = EmulatorState(users={**DEFAULT_USERS, **extra}, request_log_size=int(log_size), **json.loads(settings))
    sock = bind_socket("127.0.0.1", 0)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(create_app(state), log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        state.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
