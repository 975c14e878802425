"""The provider's exception types: every failure a user can see is one of these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

__all__ = [
    "TRANSIENT_STATUSES",
    "DataPumpAmbiguousJobError",
    "DataPumpConfigError",
    "DataPumpError",
    "DataPumpHTTPError",
    "DataPumpJobError",
    "DataPumpLinkError",
    "DataPumpOracleNotConfiguredError",
    "DataPumpProtocolError",
    "DataPumpSqlError",
    "DataPumpSqlUnavailableError",
    "DataPumpTransferError",
    "DataPumpValidationError",
]


class DataPumpError(AirflowException):
    """Base class of every error this provider raises."""

    # What the ORA codes in the message mean and what to do (airflow_provider_datapump.hints).
    hint: str = ""

    def add_hint(self, hint: str) -> None:
        """Append ``hint`` to the message, keeping the exception's class (and so its retry rules)."""
        if not hint or self.hint:
            return
        self.hint = hint
        self.args = (f"{self.args[0]}\n{hint}" if self.args else hint, *self.args[1:])


class DataPumpValidationError(DataPumpError, AirflowFailException, ValueError):
    """An argument or payload was judged invalid before anything was sent.

    It fails the task without retries: the same input would be judged the same way again.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class DataPumpConfigError(DataPumpError):
    """The Airflow connection cannot be turned into a usable ORDS or Oracle client."""


# Answers that say "not now" rather than "no": the hook retries them, and a wait rides them out.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class DataPumpHTTPError(DataPumpError):
    """ORDS answered with an HTTP error, or could not be reached after the retry budget."""

    def __init__(
        self,
        *,
        method: str,
        url: str,
        status: int | None,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.ords_message = message
        self.retry_after = retry_after
        where = f"{method} {url}"
        if status is None:
            text = f"{where} failed: {message or 'no response'}"
        else:
            detail = ": ".join(part for part in (code, message) if part)
            text = f"{where} returned HTTP {status}" + (f" ({detail})" if detail else "")
        super().__init__(text)

    @property
    def transient(self) -> bool:
        """ORDS could not be reached, or answered 429 or a 5xx: asking later may succeed."""
        return self.status is None or self.status in TRANSIENT_STATUSES


class DataPumpProtocolError(DataPumpError):
    """ORDS answered, but with something this provider cannot interpret as a Data Pump job."""


class DataPumpLinkError(DataPumpError):
    """A server-supplied link or file name was refused by the link policy."""


class DataPumpTransferError(DataPumpError):
    """A file transfer ended short, long, or corrupt."""


class DataPumpOracleNotConfiguredError(DataPumpError):
    """An operation that only SQL can do was asked for, and no way to run SQL is configured."""


class DataPumpSqlError(DataPumpError):
    """The database refused one statement, through either transport (oracledb or REST-Enabled SQL).

    ``code`` is the error's code as Oracle names it (``"ORA-01918"``), or None when the statement's
    answer was lost; ``statement`` the name of the statement in ``hooks.sql.statements``.
    """

    def __init__(self, code: str | None, message: str, *, statement: str) -> None:
        self.code = code
        self.statement = statement
        self.sql_message = message
        text = message if not code or code in message else f"{code}: {message}"
        super().__init__(f"{statement}: {text}")


class DataPumpSqlUnavailableError(DataPumpOracleNotConfiguredError):
    """SQL is needed, no ``oracle_conn_id`` is set, and the ORDS does not offer REST-Enabled SQL
    (``_/sql`` answered 404, 405, or 401 while the Database API accepted the same credentials)."""

    def __init__(self, url: str, status: int | None, detail: str = "") -> None:
        self.url = url
        self.status = status
        super().__init__(
            f"REST-Enabled SQL is not available at {url}"
            + (f" (HTTP {status}{': ' + detail if detail else ''})" if status else "")
            + ": enable REST-Enabled SQL on the ORDS (restEnabledSql.active=true) or set oracle_conn_id"
        )


class DataPumpJobError(DataPumpError):
    """The Data Pump job ended in an outcome the task does not accept."""

    # The judged result as the task's XCom holds it (``JobResult.to_xcom()``), not the JobResult
    # itself: this module sits below jobs.py, which raises DataPumpProtocolError.
    def __init__(self, message: str, result: Mapping[str, Any] | None = None) -> None:
        self.result = result
        super().__init__(message)


class DataPumpAmbiguousJobError(DataPumpError):
    """A create request's answer was lost and the evidence cannot yet tell which new job is ours.

    Other clients of the same ORDS user (mapped tasks, other DAGs, people) may have created jobs at
    the same moment. Rather than adopt one of theirs, or start a second export behind the task's
    back, the try fails naming the candidates. ``pending`` (JSON) is what a retry needs to settle it
    once the candidates have ended: the request as sent and the candidate jobs.
    """

    def __init__(self, message: str, *, candidates: list[str], pending: dict[str, Any]) -> None:
        self.candidates = candidates
        self.pending = pending
        super().__init__(message)


class DataPumpUnreachableError(DataPumpHTTPError):
    """No answer came from ORDS (refused or failed connection, timeout, a connection dropped before
    the whole answer arrived), after the retry budget. ``status`` is None: nothing answered."""

    def __init__(self, *, method: str, url: str, message: str | None = None) -> None:
        super().__init__(method=method, url=url, status=None, message=message)
