"""What this provider can do on the running Airflow, decided in one place.

The provider installs on every Airflow 3 minor (``make test-matrix`` runs 3.0 to 3.3). Two features
need Airflow 3.3; below it they are absent, and a task says so once in its log instead of failing
with an ImportError or AttributeError:

- ``task_state_store`` (used through ``ResumableJobMixin``): common-compat's stand-in runs every
  try as a first one, so a retry submits a new Data Pump job instead of reattaching.
- ``BaseTrigger.on_kill``: older triggerers never call it, so killing a deferred task does not
  stop its Data Pump job, whatever ``cancel_on_kill`` says.

Version numbers, not feature probes: Airflow's own providers gate on versions the same way
(``version_compat.py``), and both features exist only from the same release.
"""

from __future__ import annotations

from typing import Any

from packaging.version import Version

__all__ = [
    "AIRFLOW_V_3_3_PLUS",
    "amask_secret",
    "AIRFLOW_VERSION",
    "FEATURES",
    "Feature",
    "log_version_limits",
    "version_limits",
]


def _airflow_version() -> Version:
    from airflow import __version__

    # base_version drops dev/rc suffixes, so 3.3.0rc1 counts as 3.3 (it has both features).
    return Version(Version(__version__).base_version)


AIRFLOW_VERSION: Version = _airflow_version()
AIRFLOW_V_3_3_PLUS: bool = Version("3.3.0") <= AIRFLOW_VERSION


class Feature:
    """One feature that needs a newer Airflow: what it is, from when, what its absence means."""

    __slots__ = ("key", "since", "missing")

    def __init__(self, key: str, since: str, missing: str) -> None:
        self.key = key
        self.since = Version(since)
        self.missing = missing

    def available(self, version: Version | None = None) -> bool:
        return (version or AIRFLOW_VERSION) >= self.since


#: Every version-dependent feature; the README's "Airflow versions" table lists the same ones.
FEATURES: dict[str, Feature] = {
    "reattach": Feature(
        "reattach",
        "3.3.0",
        "no task_state_store, so a retry submits a new Data Pump job instead of reattaching to the running one",
    ),
    "trigger_on_kill": Feature(
        "trigger_on_kill",
        "3.3.0",
        "BaseTrigger.on_kill is never called, so killing a deferred task does not stop its Data Pump job",
    ),
}


def version_limits(*keys: str, version: Version | None = None) -> str | None:
    """One sentence naming which of ``keys`` this Airflow lacks and what that means, or None."""
    version = version or AIRFLOW_VERSION
    missing = [FEATURES[k].missing for k in keys if not FEATURES[k].available(version)]
    if not missing:
        return None
    return f"Airflow {version} (below 3.3): " + "; ".join(missing) + "."


def log_version_limits(log: Any, *, reattach: bool = False, trigger_on_kill: bool = False) -> None:
    """Log the one line for a task, at INFO; nothing on an Airflow that has what the task uses."""
    keys = [k for k, used in (("reattach", reattach), ("trigger_on_kill", trigger_on_kill)) if used]
    line = version_limits(*keys)
    if line:
        log.info("%s", line)


async def amask_secret(secret: Any, name: str | None = None) -> None:
    """Mask a secret learnt at run time in async code (a trigger), on every Airflow 3.

    ``airflow.sdk.log.amask_secret`` arrived with Airflow 3.3's task SDK. Below it, the sync
    ``mask_secret`` would also tell the supervisor, a blocking call that could deadlock the
    triggerer's event loop, so there the secret is added to this process's masker only, which
    redacts what this process logs (where a trigger's log lines are formatted).
    """
    try:
        from airflow.sdk.log import amask_secret as sdk_amask_secret
    except ImportError:
        from airflow.sdk.execution_time.secrets_masker import _secrets_masker

        _secrets_masker().add_mask(secret, name)
        return
    await sdk_amask_secret(secret, name)
