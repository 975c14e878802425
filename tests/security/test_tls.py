"""TLS against the emulator served over HTTPS with a throwaway CA made for this module.

Every read path is covered: the httpx client (sync and async) and stream_file's http.client fast
path. Without the CA each fails on the first attempt with an error that names certificate
verification, and the emulator's request log proves no request (and so no credential) was sent;
with ``verify`` pointing at the CA each works; with ``verify`` false each works and the hook
warns once, loudly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import ipaddress
import json
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from airflow_provider_datapump.emulator.server import run_emulator
from airflow_provider_datapump.exceptions import DataPumpHTTPError
from airflow_provider_datapump.hooks.datapump import DataPumpHook, OrdsSettings
from airflow_provider_datapump.jobs import Outcome
from tests.helpers import wait_done

EXPORT = {"operation": "EXPORT", "schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}


def _pem(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def make_pki(directory) -> dict[str, str]:
    """A CA, and a certificate for localhost and 127.0.0.1 signed by it (valid for a day)."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "datapump throwaway test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return {
        "ca": _pem(directory / "ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
        "cert": _pem(directory / "server.pem", cert.public_bytes(serialization.Encoding.PEM)),
        "key": _pem(directory / "server.key", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
    }


@pytest.fixture(scope="module")
def https_emulator(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    pki = make_pki(directory)
    with run_emulator(data_dir=directory / "data", ssl_certfile=pki["cert"], ssl_keyfile=pki["key"], duration=0) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        emu.pki = pki
        yield emu


@pytest.fixture
def emu(https_emulator, monkeypatch):
    """The HTTPS emulator, reset, with one connection per verify setting."""
    https_emulator.reset()
    https_emulator.set_scenario(duration=0)
    for conn_id, extra in (("ords_tls_default", {}), ("ords_tls_ca", {"verify": https_emulator.pki["ca"]}),
                           ("ords_tls_off", {"verify": "false"})):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(https_emulator.airflow_connection(extra=extra)))
    return https_emulator


def hook(conn_id: str) -> DataPumpHook:
    # Retries would be allowed; a certificate failure must still end at the first attempt.
    return DataPumpHook(ords_conn_id=conn_id, retry_attempts=3, retry_backoff=0.5)


def finished_export(emu) -> tuple[dict, str]:
    """An export made through the trusting hook: (its result dict, the name of its dump)."""
    trusting = hook("ords_tls_ca")
    try:
        result = wait_done(trusting, trusting.create_job(EXPORT))
    finally:
        trusting.close()
    dump = next(f["name"] for f in result.files if f["kind"] == "dump")
    return result.to_xcom(), dump


# ------------------------------------------------------------------ default: verify


def test_verification_is_on_by_default(emu):
    settings = hook("ords_tls_default").settings
    assert settings.verify is True
    assert OrdsSettings.from_connection(type("C", (), {
        "conn_id": "c", "host": "https://db.example.com/ords/a", "port": None, "schema": None,
        "login": "u", "password": "p", "extra_dejson": {}})()).verify is True


def _assert_untrusted(err: DataPumpHTTPError) -> None:
    text = str(err)
    assert "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text, text
    assert "'verify'" in text, text  # the hint names the connection extra that fixes it


@pytest.mark.parametrize("call", ["list_jobs", "get_job", "create_job", "alist_jobs", "aresolve", "stream_file", "astream_file"])
def test_untrusted_certificate_fails_at_once_and_sends_nothing(emu, call, capsys):
    xcom, dump = finished_export(emu)
    h = hook("ords_tls_default")
    wall = time.time()
    try:
        with pytest.raises(DataPumpHTTPError) as err:
            if call == "list_jobs":
                h.list_jobs()
            elif call == "get_job":
                h.get_job(xcom)
            elif call == "create_job":
                h.create_job(EXPORT)
            elif call == "alist_jobs":
                asyncio.run(h.alist_jobs())
            elif call == "aresolve":
                asyncio.run(h.aresolve(xcom))
            elif call == "stream_file":
                h.stream_file(xcom, dump, io.BytesIO())
            else:
                asyncio.run(h.astream_file(xcom, dump, io.BytesIO()))
    finally:
        h.close()
    _assert_untrusted(err.value)
    # The handshake failed before any HTTP request, so no Authorization header ever left. (The
    # emulator logs a request after answering it: the export's last GET may be logged late.)
    assert [r for r in emu.requests() if r["timestamp"] >= wall] == []
    assert "retrying" not in capsys.readouterr().out, "a certificate failure was retried"


# ------------------------------------------------------------------ verify = the CA


def test_ca_bundle_from_the_connection_is_trusted_on_every_path(emu):
    h = hook("ords_tls_ca")
    try:
        assert h.settings.verify == emu.pki["ca"]
        result = wait_done(h, h.create_job(EXPORT))
        assert result.verdict.outcome is Outcome.SUCCEEDED and result.self_url.startswith("https://")
        dump = next(f["name"] for f in result.files if f["kind"] == "dump")
        sync_bytes = h.stream_file(result.to_xcom(), dump, io.BytesIO())

        async def twins():
            resolved = await h.aresolve(result.to_xcom())
            out = io.BytesIO()
            return resolved, await h.astream_file(result.to_xcom(), dump, out), out.getvalue()

        resolved, async_bytes, body = asyncio.run(twins())
    finally:
        h.close()
    assert resolved.verdict.outcome is Outcome.SUCCEEDED
    assert sync_bytes == async_bytes == len(body) > 0


# ------------------------------------------------------------------ verify = false


def test_verification_off_works_and_warns_once_per_hook(emu, capsys):
    xcom, dump = finished_export(emu)
    capsys.readouterr()
    h = hook("ords_tls_off")
    try:
        assert h.settings.verify is False
        for _ in range(3):
            h.list_jobs()
        assert h.stream_file(xcom, dump, io.BytesIO()) > 0

        async def twins():
            await h.aresolve(xcom)
            return await h.astream_file(xcom, dump, io.BytesIO())

        assert asyncio.run(twins()) > 0
    finally:
        h.close()
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if "TLS certificate verification is OFF" in line]
    assert len(warnings) == 1, out
    assert "warning" in warnings[0].lower() and emu.base_url in warnings[0]
