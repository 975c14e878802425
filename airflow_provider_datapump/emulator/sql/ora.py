"""Oracle errors as the SQL layer raises them: a code and Oracle's own message text."""

from __future__ import annotations

__all__ = ["OracleError", "ora"]

# Oracle's message texts (Database Error Messages, 19c wording), keyed by number. ``{}`` is the
# argument Oracle puts in the text.
_TEXTS: dict[int, str] = {
    54: "resource busy and acquire with NOWAIT specified or timeout expired",
    900: "invalid SQL statement",
    904: '"{}": invalid identifier',
    911: "invalid character",
    918: "column ambiguously defined",
    932: "inconsistent datatypes",
    933: "SQL command not properly ended",
    942: "table or view does not exist",
    1008: "not all variables bound",
    1027: "bind variables not allowed for data definition operations",
    1031: "insufficient privileges",
    1722: "invalid number",
    1740: "missing double quote in identifier",
    1741: "illegal zero-length identifier",
    1756: "quoted string not properly terminated",
    1918: "user '{}' does not exist",
    1922: "CASCADE must be specified to drop '{}'",
    1940: "cannot drop a user that is currently connected",
    6502: "PL/SQL: numeric or value error",
    22285: "non-existent directory or file for FILEOPEN operation",
    22288: "file or LOB operation FILEOPEN failed",
    28014: "cannot drop administrative user or role",
    31626: "job does not exist",
    39004: "invalid state",
    44001: "invalid schema",
    44003: "invalid SQL name",
}


class OracleError(Exception):
    """An error a statement ends with: ``code`` (1918), ``message`` ("ORA-01918: user 'X' does not exist").

    ``details`` is what ORDS puts in ``errorDetails`` (the message plus further lines, such as the
    ORA-06512 stack of a PL/SQL block or an OS error).
    """

    def __init__(self, code: int, message: str, details: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details if details is not None else message


def ora(code: int, arg: str = "", *, more: str = "") -> OracleError:
    """``OracleError`` with Oracle's text for ``code``; ``more`` adds lines to the details only."""
    message = f"ORA-{code:05d}: " + _TEXTS[code].format(arg)
    return OracleError(code, message, message + ("\n" + more if more else ""))
