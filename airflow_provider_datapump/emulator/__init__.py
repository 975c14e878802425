"""Local emulator of the ORDS Database API Data Pump endpoints.

``run_emulator`` starts it in-process on a free port; ``python -m
airflow_provider_datapump.emulator`` (or ``datapump-emulator``) runs it in the
foreground. Importing this package does not import FastAPI or uvicorn.
"""

from .server import EmulatorHandle, run_emulator
from .state import DEFAULT_ORDS_VERSION, ORDS_VERSIONS

__all__ = ["run_emulator", "EmulatorHandle", "ORDS_VERSIONS", "DEFAULT_ORDS_VERSION"]
