"""Local emulator of the ORDS Database API Data Pump endpoints, shaped like moto.

``run_emulator`` starts it in-process on a free port; ``python -m
airflow_provider_datapump.emulator`` (or ``datapump-emulator``) runs it in the
foreground. Importing this package does not import FastAPI or uvicorn
(``create_app`` is imported on first use). See README.md for the layout.
"""

from typing import Any

from .auth import DEFAULT_CLIENTS, DEFAULT_USERS, Principal
from .dumpfiles import DUMP_MAGIC, read_dump_header
from .errors import EmulatorError
from .expressions import ExpressionError, match_all, parse_expression
from .server import EmulatorHandle, run_emulator
from .settings import DEFAULT_SETTINGS, OUTCOMES
from .state import EmulatorState
from .versions import DEFAULT_ORDS_VERSION, ORDS_VERSIONS, endpoint_keys

__all__ = [
    "run_emulator",
    "EmulatorHandle",
    "EmulatorState",
    "create_app",
    "Principal",
    "EmulatorError",
    "ORDS_VERSIONS",
    "DEFAULT_ORDS_VERSION",
    "DEFAULT_SETTINGS",
    "DEFAULT_USERS",
    "DEFAULT_CLIENTS",
    "OUTCOMES",
    "endpoint_keys",
    "DUMP_MAGIC",
    "read_dump_header",
    "ExpressionError",
    "parse_expression",
    "match_all",
]


def __getattr__(name: str) -> Any:
    # The HTTP layer needs FastAPI: load it only when asked for.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
