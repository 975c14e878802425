"""The test credentials, declared once: the emulator's seeded ORDS user and OAuth2 client.

The secret scan (tests/conftest.py) fails any test whose output shows one of ``SECRETS``.
"""

from __future__ import annotations

from airflow_provider_datapump.emulator import DEFAULT_CLIENTS, DEFAULT_USERS

USER, PASSWORD = next(iter(DEFAULT_USERS.items()))
CLIENT_ID, _CLIENT = next(iter(DEFAULT_CLIENTS.items()))
CLIENT_SECRET = _CLIENT["secret"]
SECRETS = (PASSWORD, CLIENT_SECRET)
