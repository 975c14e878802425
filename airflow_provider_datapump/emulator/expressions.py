"""Parser for the SQL condition fragments ORDS passes to Data Pump metadata filters.

ORDS hands ``name_expressions`` / ``schema_expressions`` / ``tablespace_expressions``
to ``DBMS_DATAPUMP.METADATA_FILTER`` (NAME_EXPR, SCHEMA_EXPR, TABLESPACE_EXPR), where
the fragment follows an implicit column: ``IN ('A','B')``, ``!='EMP'``, ``LIKE 'EMP%'``.
The emulator accepts exactly one predicate per fragment and nothing else, so that a
fragment carrying a second statement, a comment or an ``OR 1=1`` tail is refused
instead of being half-understood. Nothing here evaluates SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["ExpressionError", "Predicate", "parse_expression", "match_all"]

MAX_EXPRESSION_LENGTH = 4000


class ExpressionError(ValueError):
    """The fragment is not one of the accepted predicate forms."""


@dataclass(frozen=True)
class _Token:
    kind: str  # STRING, WORD, OP, LPAREN, RPAREN, COMMA
    value: str
    pos: int


_OPERATORS = ("!=", "<>", "^=", "<=", ">=", "=", "<", ">")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if ch == "'":
            start = i
            i += 1
            buf: list[str] = []
            while True:
                if i >= n:
                    raise ExpressionError(f"unterminated string literal starting at position {start}")
                if text[i] == "'":
                    # SQL escapes a quote inside a literal by doubling it.
                    if i + 1 < n and text[i + 1] == "'":
                        buf.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            tokens.append(_Token("STRING", "".join(buf), start))
            continue
        if ch == "(":
            tokens.append(_Token("LPAREN", ch, i))
            i += 1
            continue
        if ch == ")":
            tokens.append(_Token("RPAREN", ch, i))
            i += 1
            continue
        if ch == ",":
            tokens.append(_Token("COMMA", ch, i))
            i += 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(_Token("OP", op, i))
            i += len(op)
            continue
        if ch.isascii() and ch.isalpha():
            start = i
            while i < n and text[i].isascii() and text[i].isalpha():
                i += 1
            tokens.append(_Token("WORD", text[start:i].upper(), start))
            continue
        raise ExpressionError(f"unexpected character {ch!r} at position {i}")
    return tokens


def _like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            if i + 1 >= len(pattern):
                raise ExpressionError("LIKE pattern ends with the escape character")
            nxt = pattern[i + 1]
            if nxt not in ("%", "_", escape):
                raise ExpressionError("escape character must precede %, _ or itself")
            out.append(re.escape(nxt))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


@dataclass(frozen=True)
class Predicate:
    """One parsed fragment. ``matches`` compares case-sensitively, as Oracle does."""

    source: str
    kind: str  # CMP, IN, LIKE
    negated: bool
    operator: str | None
    values: tuple[str, ...]
    _test: Callable[[str], bool]

    def matches(self, value: str) -> bool:
        result = self._test(value)
        return (not result) if self.negated else result


def _compare(op: str, literal: str) -> Callable[[str], bool]:
    if op == "=":
        return lambda v: v == literal
    if op in ("!=", "<>", "^="):
        return lambda v: v != literal
    if op == "<":
        return lambda v: v < literal
    if op == ">":
        return lambda v: v > literal
    if op == "<=":
        return lambda v: v <= literal
    if op == ">=":
        return lambda v: v >= literal
    raise ExpressionError(f"unsupported operator {op}")  # pragma: no cover


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> _Token:
        tok = self.peek()
        if tok is None:
            want = value or kind.lower()
            raise ExpressionError(f"expected {want} but the expression ended")
        if tok.kind != kind or (value is not None and tok.value != value):
            want = value or kind.lower()
            raise ExpressionError(f"expected {want} at position {tok.pos}, found {tok.value!r}")
        self.i += 1
        return tok

    def at_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "WORD" and tok.value == word


def parse_expression(text: str) -> Predicate:
    """Parse one fragment; raise :class:`ExpressionError` on anything else."""
    if not isinstance(text, str):
        raise ExpressionError("expression must be a string")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError("expression is too long")
    tokens = _tokenize(text)
    if not tokens:
        raise ExpressionError("expression is empty")
    p = _Parser(tokens)
    first = tokens[0]
    negated = False
    if first.kind == "OP":
        op = p.take("OP").value
        literal = p.take("STRING").value
        pred = Predicate(text, "CMP", False, op, (literal,), _compare(op, literal))
    else:
        if p.at_word("NOT"):
            p.take("WORD", "NOT")
            negated = True
        if p.at_word("IN"):
            p.take("WORD", "IN")
            p.take("LPAREN")
            values = [p.take("STRING").value]
            while p.peek() is not None and p.peek().kind == "COMMA":  # type: ignore[union-attr]
                p.take("COMMA")
                values.append(p.take("STRING").value)
            p.take("RPAREN")
            frozen = frozenset(values)
            pred = Predicate(text, "IN", negated, None, tuple(values), lambda v: v in frozen)
        elif p.at_word("LIKE"):
            p.take("WORD", "LIKE")
            pattern = p.take("STRING").value
            escape = None
            if p.at_word("ESCAPE"):
                p.take("WORD", "ESCAPE")
                escape = p.take("STRING").value
                if len(escape) != 1:
                    raise ExpressionError("ESCAPE takes exactly one character")
            rx = _like_regex(pattern, escape)
            pred = Predicate(text, "LIKE", negated, None, (pattern,), lambda v: rx.fullmatch(v) is not None)
        else:
            tok = p.peek()
            where = f"at position {tok.pos}" if tok is not None else "but the expression ended"
            raise ExpressionError(f"expected a comparison operator, IN, NOT IN, LIKE or NOT LIKE {where}")
    rest = p.peek()
    if rest is not None:
        raise ExpressionError(f"unexpected {rest.value!r} at position {rest.pos} after the predicate")
    return pred


def match_all(predicates: Iterable[Predicate], value: str) -> bool:
    """Several fragments of one kind are ANDed, as Data Pump combines metadata filters."""
    return all(p.matches(value) for p in predicates)
