"""What a statement means, read from its tokens: DDL, a PL/SQL block, or a query for ``query``.

The emulator understands a statement by its structure, not its text: case, spacing, comments,
quoting and bind names may differ. A PL/SQL block is run by a small interpreter that knows the
calls the provider makes (DBMS_DATAPUMP.ATTACH/STOP_JOB/DETACH, DBMS_ASSERT, EXECUTE IMMEDIATE
of a concatenated string); anything else is ORA-00900, never a silent success.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .binds import Binds
from .lexer import Token, tokenize
from .ora import OracleError, ora
from .views import Session

__all__ = ["Statement", "classify", "run_statement"]

_SIMPLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_$#]*\Z")

# First keyword -> ORDS's statementType.
_KINDS = {
    "SELECT": "query",
    "WITH": "query",
    "DECLARE": "plsql",
    "BEGIN": "plsql",
    "INSERT": "dml",
    "UPDATE": "dml",
    "DELETE": "dml",
    "MERGE": "dml",
    "CREATE": "ddl",
    "ALTER": "ddl",
    "DROP": "ddl",
    "TRUNCATE": "ddl",
    "GRANT": "ddl",
    "REVOKE": "ddl",
    "COMMIT": "transaction-control",
    "ROLLBACK": "transaction-control",
    "SAVEPOINT": "transaction-control",
}


@dataclass
class Statement:
    """One statement of a request, its tokens and kind (``query``, ``ddl``, ``plsql``, ...)."""

    text: str
    tokens: list[Token]
    kind: str

    @property
    def bind_order(self) -> list[str]:
        seen: list[str] = []
        for t in self.tokens:
            if t.kind == "bind" and t.value.upper() not in seen:
                seen.append(t.value.upper())
        return seen


def classify(text: str) -> Statement:
    """Tokenize and name the statement's kind (raises ORA-00911 and the like for bad characters)."""
    tokens = tokenize(text)
    while tokens and tokens[-1].is_op(";") and not (tokens[0].is_word("DECLARE", "BEGIN")):
        tokens.pop()
    first = tokens[0].value if tokens and tokens[0].kind == "word" else ""
    return Statement(text, tokens, _KINDS.get(first, "other"))


# ---------------------------------------------------------------- a cursor over tokens


class _Cursor:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            raise _not_understood("the statement ends too early")
        self.i += 1
        return t

    def is_word(self, ahead: int, *words: str) -> bool:
        t = self.peek(ahead)
        return t is not None and t.is_word(*words)

    def _take(self, kind: str, values: tuple[str, ...]) -> bool:
        t = self.peek()
        if t is not None and t.kind == kind and t.value in values:
            self.i += 1
            return True
        return False

    def word(self, *words: str) -> bool:
        return self._take("word", words)

    def op(self, *ops: str) -> bool:
        return self._take("op", ops)

    def expect_op(self, op: str) -> None:
        if not self.op(op):
            t = self.peek()
            raise _not_understood(f"expected {op!r} at {t.value!r}" if t else f"expected {op!r}")

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)


def _not_understood(why: str) -> OracleError:
    return ora(900, more=f"(emulator) {why}")


def _name(t: Token) -> str:
    """An identifier as the dictionary stores it: unquoted upper-cased, quoted exactly."""
    if t.kind == "word":
        return t.value
    if t.kind == "qid":
        if not t.value:
            raise ora(1741)
        return t.value
    raise _not_understood(f"expected a name, found {t.value!r}")


# ---------------------------------------------------------------- DDL


def _run_ddl(cur: _Cursor, s: Session) -> str:
    """DROP USER name [CASCADE] | DROP TABLE [owner.]name [CASCADE CONSTRAINTS] [PURGE]; returns SQLcl's line."""
    if not cur.word("DROP"):
        raise _not_understood("only DROP USER and DROP TABLE are modelled")
    if cur.word("USER"):
        name = _name(cur.next())
        cascade = cur.word("CASCADE")
        _end(cur)
        s.backend.drop_user(s.user, name, cascade=cascade)
        return f"User {name} dropped."
    if cur.word("TABLE"):
        first = _name(cur.next())
        owner, table = (first, _name(cur.next())) if cur.op(".") else (s.user, first)
        if cur.word("CASCADE") and not cur.word("CONSTRAINTS"):
            raise ora(933)
        cur.word("PURGE")
        _end(cur)
        s.backend.drop_table_sql(owner, table)
        return f"Table {owner}.{table} dropped."
    raise _not_understood("only DROP USER and DROP TABLE are modelled")


def _end(cur: _Cursor) -> None:
    t = cur.peek()
    if t is not None:
        raise ora(911) if t.is_op(";") else ora(933)


# ---------------------------------------------------------------- PL/SQL


@dataclass
class _Block:
    session: Session
    binds: Binds
    order: list[str]
    variables: dict[str, Any] = field(default_factory=dict)
    handles: dict[int, Any] = field(default_factory=dict)
    run_query: Callable[[str, Session, Binds], Any] | None = None


def _args(cur: _Cursor, blk: _Block) -> list[tuple[str | None, Any]]:
    out: list[tuple[str | None, Any]] = []
    if not cur.op("("):
        return out
    if cur.op(")"):
        return out
    while True:
        t, after = cur.peek(), cur.peek(1)
        name = None
        if t is not None and t.kind in ("word", "qid") and after is not None and after.is_op("=>"):
            name = _name(cur.next())
            cur.next()
        out.append((name, _expr(cur, blk)))
        if cur.op(")"):
            return out
        cur.expect_op(",")


def _signature(
    proc: str, params: tuple[str, ...], defaults: dict[str, Any], args: list[tuple[str | None, Any]]
) -> dict[str, Any]:
    values = dict(defaults)
    for i, (name, value) in enumerate(args):
        key = name if name is not None else (params[i] if i < len(params) else None)
        if key not in params:
            raise _not_understood(f"PLS-00306: wrong number or types of arguments in call to '{proc}'")
        values[key] = value
    missing = [p for p in params if p not in values]
    if missing:
        raise _not_understood(f"PLS-00306: wrong number or types of arguments in call to '{proc}'")
    return values


def _qualified(cur: _Cursor) -> str:
    parts = [_name(cur.next())]
    while cur.op("."):
        parts.append(_name(cur.next()))
    if parts[0] == "SYS" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


def _quoted_name_ok(inner: str) -> bool:
    """A valid quoted simple SQL name: 1 to 128 bytes, no double quote, no NUL."""
    return 0 < len(inner.encode()) <= 128 and '"' not in inner and "\x00" not in inner


def enquote_name(value: Any, capitalize: Any = True) -> str:
    """DBMS_ASSERT.ENQUOTE_NAME: the name enclosed in double quotes (unless it already is), then
    checked to be a valid quoted simple SQL name; ORA-44003 otherwise (an embedded quote, say)."""
    text = "" if value is None else str(value)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
    else:
        inner = text.upper() if capitalize not in (False, 0) else text
    if not _quoted_name_ok(inner):
        raise ora(44003)
    return f'"{inner}"'


def simple_sql_name(value: Any) -> str:
    """DBMS_ASSERT.SIMPLE_SQL_NAME: an unquoted identifier, or a quoted one without embedded quotes."""
    text = str(value or "").strip()
    if _SIMPLE_NAME.match(text) or (
        len(text) > 2 and text[0] == text[-1] == '"' and _quoted_name_ok(text[1:-1])
    ):
        return text
    raise ora(44003)


def _call(name: str, args: list[tuple[str | None, Any]], blk: _Block) -> Any:
    """A function call inside a block: its value."""
    if name in ("DBMS_ASSERT.ENQUOTE_NAME",):
        a = _signature(name, ("STR", "CAPITALIZE"), {"CAPITALIZE": True}, args)
        return enquote_name(a["STR"], a["CAPITALIZE"])
    if name == "DBMS_ASSERT.SIMPLE_SQL_NAME":
        return simple_sql_name(_signature(name, ("STR",), {}, args)["STR"])
    if name == "DBMS_ASSERT.SCHEMA_NAME":
        value = _signature(name, ("STR",), {}, args)["STR"]
        if value not in blk.session.backend.catalog.schemas:
            raise ora(44001)
        return value
    if name == "DBMS_ASSERT.NOOP":
        return _signature(name, ("STR",), {}, args)["STR"]
    if name == "UPPER":
        value = _signature(name, ("STR",), {}, args)["STR"]
        return None if value is None else str(value).upper()
    if name == "DBMS_DATAPUMP.ATTACH":
        a = _signature(name, ("JOB_NAME", "JOB_OWNER"), {"JOB_NAME": None, "JOB_OWNER": None}, args)
        owner = a["JOB_OWNER"] or blk.session.user
        if a["JOB_NAME"] is None:
            raise ora(31626)
        job = blk.session.backend.attach(str(owner), str(a["JOB_NAME"]))
        handle = len(blk.handles) + 1
        blk.handles[handle] = job
        return handle
    raise _not_understood(f"PLS-00201: identifier '{name}' must be declared")


def _procedure(name: str, args: list[tuple[str | None, Any]], blk: _Block) -> None:
    if name == "DBMS_DATAPUMP.STOP_JOB":
        a = _signature(
            name,
            ("HANDLE", "IMMEDIATE", "KEEP_MASTER", "DELAY"),
            {"IMMEDIATE": 0, "KEEP_MASTER": None, "DELAY": 60},
            args,
        )
        job = blk.handles.get(a["HANDLE"])
        if job is None:
            raise OracleError(
                31623, "ORA-31623: a job is not attached to this session via the specified handle"
            )
        keep = a["KEEP_MASTER"]
        blk.session.backend.stop_attached(job, keep_master=1 if keep is None else int(bool(keep)))
        blk.handles.pop(a["HANDLE"])
        return
    if name == "DBMS_DATAPUMP.DETACH":
        handle = _signature(name, ("HANDLE",), {}, args)["HANDLE"]
        if blk.handles.pop(handle, None) is None:
            raise OracleError(
                31623, "ORA-31623: a job is not attached to this session via the specified handle"
            )
        return
    raise _not_understood(f"PLS-00201: identifier '{name}' must be declared")


def _term(cur: _Cursor, blk: _Block) -> Any:
    t = cur.next()
    if t.kind == "str":
        return t.value
    if t.kind == "num":
        return float(t.value) if "." in t.value else int(t.value)
    if t.kind == "bind":
        return blk.binds.resolve(t.value, blk.order)
    if t.is_op("("):
        value = _expr(cur, blk)
        cur.expect_op(")")
        return value
    if t.is_word("TRUE"):
        return True
    if t.is_word("FALSE"):
        return False
    if t.is_word("NULL"):
        return None
    if t.kind in ("word", "qid"):
        cur.i -= 1
        name = _qualified(cur)
        nxt = cur.peek()
        if name in blk.variables and not (nxt is not None and nxt.is_op("(")):
            return blk.variables[name]
        return _call(name, _args(cur, blk), blk)
    raise _not_understood(f"unexpected {t.value!r}")


def _expr(cur: _Cursor, blk: _Block) -> Any:
    """Terms joined by ``||`` (NULL concatenates as an empty string, as in Oracle)."""
    value = _term(cur, blk)
    while cur.op("||"):
        right = _term(cur, blk)
        value = ("" if value is None else _text(value)) + ("" if right is None else _text(right))
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        raise _not_understood("PLS-00306: a BOOLEAN cannot be concatenated")
    return str(value)


def _declarations(cur: _Cursor, blk: _Block) -> None:
    while not cur.word("BEGIN"):
        var = _name(cur.next())
        if cur.word("CONSTANT"):
            pass
        depth = 0
        while True:  # the type, up to ';' or ':='
            t = cur.next()
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
            elif depth == 0 and t.is_op(";"):
                blk.variables[var] = None
                break
            elif depth == 0 and t.is_op(":="):
                blk.variables[var] = _expr(cur, blk)
                cur.expect_op(";")
                break


def _execute_immediate(sql: Any, blk: _Block) -> None:
    """EXECUTE IMMEDIATE of a built string: one statement, no ';', no binds of its own."""
    if not isinstance(sql, str) or not sql.strip():
        raise ora(900)
    stmt = classify(sql)
    if stmt.kind == "ddl":
        _run_ddl(_Cursor(stmt.tokens), blk.session)
        return
    if any(t.is_op(";") for t in tokenize(sql)):
        raise ora(911)
    if stmt.kind == "query" and blk.run_query is not None:
        blk.run_query(sql, blk.session, Binds([]))  # run for its errors; a query without INTO fetches nothing
        return
    raise _not_understood("EXECUTE IMMEDIATE of this statement is not modelled")


def _body(cur: _Cursor, blk: _Block) -> None:
    while not cur.word("END"):
        if cur.word("NULL"):
            cur.expect_op(";")
            continue
        if cur.word("EXCEPTION"):
            raise _not_understood("exception handlers are not modelled")
        if cur.is_word(0, "EXECUTE") and cur.is_word(1, "IMMEDIATE"):
            cur.i += 2
            sql = _expr(cur, blk)
            if cur.is_word(0, "USING", "INTO"):
                raise _not_understood("EXECUTE IMMEDIATE ... USING/INTO is not modelled")
            cur.expect_op(";")
            _execute_immediate(sql, blk)
            continue
        name = _qualified(cur)
        if cur.op(":="):
            if name not in blk.variables:
                raise _not_understood(f"PLS-00201: identifier '{name}' must be declared")
            blk.variables[name] = _expr(cur, blk)
        else:
            _procedure(name, _args(cur, blk), blk)
        cur.expect_op(";")
    t = cur.peek()
    if t is not None and t.kind in ("word", "qid"):
        cur.next()  # END label
    cur.op(";")
    if not cur.at_end():
        raise ora(933)


def run_block(stmt: Statement, session: Session, binds: Binds, run_query: Callable[..., Any]) -> None:
    cur = _Cursor(stmt.tokens)
    blk = _Block(session, binds, stmt.bind_order, run_query=run_query)
    if cur.word("DECLARE"):
        _declarations(cur, blk)
    elif not cur.word("BEGIN"):
        raise _not_understood("a block starts with DECLARE or BEGIN")
    _body(cur, blk)


def run_statement(stmt: Statement, session: Session, binds: Binds, run_query: Callable[..., Any]) -> Any:
    """Run a non-query statement; returns the line SQLcl would print."""
    if stmt.kind == "plsql":
        run_block(stmt, session, binds, run_query)
        return "PL/SQL procedure successfully completed."
    if stmt.kind == "ddl":
        if stmt.bind_order:
            raise ora(1027)
        return _run_ddl(_Cursor(stmt.tokens), session)
    raise _not_understood(f"{stmt.kind} statements are not modelled")
