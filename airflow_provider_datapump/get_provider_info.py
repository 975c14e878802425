"""Provider metadata read by Airflow's ProvidersManager through the ``apache_airflow_provider`` entry point.

The connection form is declared here (``ui-field-behaviour`` and ``conn-fields``), which Airflow
3.2+ reads without importing the hook.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_datapump import __version__

__all__ = ["get_provider_info"]

PACKAGE = "airflow_provider_datapump"
INTEGRATION = "Oracle Data Pump (ORDS)"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-datapump",
        "name": "Oracle Data Pump (ORDS)",
        "description": "Run Oracle Data Pump export and import jobs through the ORDS Database API.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://docs.oracle.com/en/database/oracle/oracle-rest-data-services/",
                "tags": ["software"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.hooks.datapump"]}],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [f"{PACKAGE}.operators.datapump", f"{PACKAGE}.operators.fetch"],
            }
        ],
        "sensors": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.sensors.datapump"]}],
        "triggers": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.triggers.datapump"]}],
        "extra-links": [f"{PACKAGE}.operators.datapump.DataPumpJobLink"],
        "connection-types": [
            {
                "connection-type": "ords",
                "hook-class-name": f"{PACKAGE}.hooks.datapump.DataPumpHook",
                "hook-name": "Oracle Data Pump (ORDS)",
                "ui-field-behaviour": {
                    "hidden-fields": ["extra"],
                    "relabeling": {
                        "host": "ORDS base URL",
                        # Airflow 3.3.2's list Test button sends port 0 for a connection without one
                        # and the API refuses the test (apache/airflow#73298): ask for it by name.
                        "port": "Port (repeat the URL's port)",
                        "schema": "ORDS path (if the URL has none)",
                        "login": "User or OAuth2 client id",
                        "password": "Password or OAuth2 client secret",
                    },
                    "placeholders": {
                        "host": "https://db.example.com:8443/ords/pdb1/dbapi_user",
                        "port": "8443, as in the URL (443 if the URL has none)",
                        "schema": "ords/pdb1/dbapi_user",
                        "login": "dbapi_user",
                        "password": "the database user's password, or the OAuth2 client secret",
                    },
                },
                "conn-fields": {
                    "auth_type": {
                        "label": "Authentication",
                        "description": "basic: the REST-enabled database user; oauth2: ORDS client credentials.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["basic", "oauth2"],
                            "default": "basic",
                        },
                    },
                    "verify": {
                        "label": "TLS verification",
                        "description": "true (default), false, or the path of a CA bundle on the workers.",
                        "schema": {"type": ["string", "null"], "default": "true"},
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Per request; file downloads use it as the read timeout.",
                        "schema": {"type": ["number", "null"], "minimum": 1, "default": 60},
                    },
                    "api_version": {
                        "label": "Database API version",
                        "description": "The db-api path segment: stable (default) or latest.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["stable", "latest"],
                            "default": "stable",
                        },
                    },
                    "ords_version": {
                        "label": "ORDS version (optional)",
                        "description": "e.g. 24.4. Empty: the server's own OpenAPI description says which "
                        "keys it takes. When set, it overrides that: request keys that version does not "
                        "document are refused instead of being dropped by ORDS without a word.",
                        "schema": {
                            "type": ["string", "null"],
                            "pattern": "^$|^[0-9]{1,2}\\.[0-9]{1,2}",
                            "default": "",
                        },
                    },
                    "lineage_database": {
                        "label": "Database for lineage (host:port/service)",
                        "description": "The database this ORDS serves, as its listener host:port/service_name. "
                        "Used only to name tables in OpenLineage events (oracle://host:port); never connected to.",
                        "schema": {"type": ["string", "null"], "default": ""},
                    },
                    "protocol": {
                        "label": "Protocol",
                        "description": "Used only when the host field holds a bare host name.",
                        "schema": {"type": ["string", "null"], "enum": ["https", "http"], "default": "https"},
                    },
                },
            }
        ],
    }
