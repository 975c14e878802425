"""Apache Airflow provider for Oracle Data Pump through the ORDS Database API."""

__version__ = "0.1.0"

__all__ = ["__version__"]
