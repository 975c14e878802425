"""A small SQL and PL/SQL lexer, and the script splitter ORDS's ``_/sql`` applies to a request.

Only what the emulator's statements need: identifiers (unquoted ones upper-cased, quoted ones
kept exactly), string and number literals, bind variables (``:name``, ``:1``), and the
operators of PL/SQL assignments, calls and concatenation. Comments are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .ora import ora

__all__ = ["Token", "tokenize", "split_script", "Piece"]

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_$#]*")
_NUMBER = re.compile(r"\d+(\.\d+)?|\.\d+")
_BIND = re.compile(r":([A-Za-z][A-Za-z0-9_$#]*|\d+)")
_OPERATORS = (
    "||",
    ":=",
    "=>",
    "<>",
    "!=",
    "<=",
    ">=",
    "(",
    ")",
    ",",
    ";",
    ".",
    "/",
    "*",
    "=",
    "<",
    ">",
    "+",
    "-",
)
_BLOCK_START = re.compile(
    r"\s*(DECLARE|BEGIN|CREATE\s+(OR\s+REPLACE\s+)?((NON)?EDITIONABLE\s+)?"
    r"(PROCEDURE|FUNCTION|PACKAGE|TRIGGER|TYPE))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # word | qid | str | num | bind | op
    value: str  # word: upper case; qid: exact; str: the unquoted text; bind: the name or index
    line: int
    column: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.value in ops


def _skip_comment(text: str, i: int) -> int:
    """The index after the comment that starts at ``i``, or ``i`` when none starts there."""
    if text.startswith("--", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        return len(text) if end < 0 else end + 2
    return i


def _quoted_end(text: str, i: int, quote: str) -> int:
    """The index after the literal opened at ``i`` (a doubled quote is one quote), or -1 if unclosed."""
    j = i + 1
    while True:
        k = text.find(quote, j)
        if k < 0:
            return -1
        if text.startswith(quote * 2, k):
            j = k + 2
            continue
        return k + 1


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, line_start = 0, 1, 0
    while i < len(text):
        c = text[i]
        skipped = _skip_comment(text, i)
        if skipped != i or c.isspace():
            end = skipped if skipped != i else i + 1
            line += text.count("\n", i, end)
            if "\n" in text[i:end]:
                line_start = text.rfind("\n", i, end) + 1
            i = end
            continue
        col = i - line_start + 1
        if c in "'\"":
            end = _quoted_end(text, i, c)
            if end < 0:
                raise ora(1756 if c == "'" else 1740)
            body = text[i + 1 : end - 1].replace(c * 2, c)
            tokens.append(Token("str" if c == "'" else "qid", body, line, col))
            line += text.count("\n", i, end)
            i = end
            continue
        m = _WORD.match(text, i)
        if m:
            tokens.append(Token("word", m.group().upper(), line, col))
            i = m.end()
            continue
        m = _NUMBER.match(text, i)
        if m:
            tokens.append(Token("num", m.group(), line, col))
            i = m.end()
            continue
        if c == "?":  # JDBC's positional placeholder: the n-th one is bound by "index": n
            tokens.append(
                Token("bind", str(sum(t.kind == "bind" and t.value.isdigit() for t in tokens) + 1), line, col)
            )
            i += 1
            continue
        m = _BIND.match(text, i) if c == ":" else None
        if m and not text.startswith(":=", i):
            tokens.append(Token("bind", m.group(1), line, col))
            i = m.end()
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is None:
            raise ora(911)
        tokens.append(Token("op", op, line, col))
        i += len(op)
    return tokens


@dataclass(frozen=True)
class Piece:
    """One statement of a script: its text and the lines it spans (1-based, inclusive)."""

    text: str
    start_line: int
    end_line: int


def _alone_on_line(text: str, i: int) -> bool:
    before = text.rfind("\n", 0, i) + 1
    after = text.find("\n", i)
    after = len(text) if after < 0 else after
    return not text[before:i].strip() and not text[i + 1 : after].strip()


def _strip_comments(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        j = _skip_comment(text, i)
        if j != i:
            out.append(" ")
            i = j
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def split_script(text: str) -> list[Piece]:
    """Split a script as SQLcl does: a SQL statement ends at ``;``, a PL/SQL block at a ``/``
    alone on its line (or at the end of the text); empty statements are skipped."""
    pieces: list[Piece] = []
    start = 0
    i = 0

    def cut(end: int, resume: int) -> None:
        nonlocal start
        begin = start
        while begin < end:  # leading blanks and comments belong to no statement
            skipped = _skip_comment(text, begin)
            if skipped == begin and not text[begin].isspace():
                break
            begin = max(skipped, begin + 1) if skipped == begin else skipped
        body = text[begin:end].rstrip()
        if begin < end and body:
            first = text.count("\n", 0, begin) + 1
            pieces.append(Piece(body, first, first + body.count("\n")))
        start = resume

    while i < len(text):
        j = _skip_comment(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in "'\"":
            end = _quoted_end(text, i, c)
            i = len(text) if end < 0 else end
            continue
        if c == "/" and _alone_on_line(text, i):
            cut(i, i + 1)
        elif c == ";" and not _BLOCK_START.match(_strip_comments(text[start:i])):
            cut(i, i + 1)
        i += 1
    cut(len(text), len(text))
    return pieces
