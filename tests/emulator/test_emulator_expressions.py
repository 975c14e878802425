"""The emulator's parser for name/schema/tablespace expression fragments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_datapump.emulator.expressions import ExpressionError, match_all, parse_expression


@pytest.mark.parametrize(
    ("expr", "yes", "no"),
    [
        ("='EMP'", ["EMP"], ["DEPT", "emp"]),
        ("= 'TESTUSER1'", ["TESTUSER1"], ["TESTUSER2"]),
        ("!='EMP'", ["DEPT"], ["EMP"]),
        ("<> 'EMP'", ["DEPT"], ["EMP"]),
        ("^= 'EMP'", ["DEPT"], ["EMP"]),
        ("IN ('SCOTT')", ["SCOTT"], ["HR"]),
        ("in('A','B' , 'C')", ["A", "B", "C"], ["D"]),
        ("NOT IN ('A', 'B')", ["C"], ["A", "B"]),
        ("not   in ( 'A' )", ["B"], ["A"]),
        ("LIKE 'EMP%'", ["EMP", "EMPLOYEES"], ["DEPT", "XEMP"]),
        ("like 'E_P'", ["EMP"], ["EMPX", "EP"]),
        ("NOT LIKE 'EMP%'", ["DEPT"], ["EMP", "EMP2"]),
        ("LIKE 'A\\_%' ESCAPE '\\'", ["A_B"], ["AXB"]),
        ("= 'O''BRIEN'", ["O'BRIEN"], ["OBRIEN"]),
        ("\t=\n'X'  ", ["X"], ["Y"]),
        ("> 'M'", ["N"], ["A"]),
    ],
)
def test_accepted_forms(expr, yes, no):
    pred = parse_expression(expr)
    for value in yes:
        assert pred.matches(value), (expr, value)
    for value in no:
        assert not pred.matches(value), (expr, value)


@pytest.mark.parametrize(
    "expr",
    [
        "",
        "   ",
        "EMP",
        "= EMP",
        "='EMP';",
        "='EMP'; DROP TABLE X",
        "= 'EMP' -- comment",
        "-- comment",
        "= 'EMP' /* c */",
        "/* c */ = 'EMP'",
        "= 'EMP",
        "IN ('A', 'B'",
        "IN 'A'",
        "IN ()",
        "IN ('A',)",
        "= 'A' OR 1=1",
        "= 'A' OR 'x'='x'",
        "='A' AND ='B'",
        "= 'A' = 'B'",
        "= 1",
        "LIKE",
        "LIKE 'A' ESCAPE 'xy'",
        "NOT = 'A'",
        "NOT",
        "NOT NOT IN ('A')",
        "IS NULL",
        "= 'A')",
        "= (SELECT 'A' FROM DUAL)",
        "= 'A' || 'B'",
        "= q'[A]'",
        "= \"EMP\"",
    ],
)
def test_rejected(expr):
    with pytest.raises(ExpressionError):
        parse_expression(expr)


def test_rejects_non_string_and_huge():
    with pytest.raises(ExpressionError):
        parse_expression(None)  # type: ignore[arg-type]
    with pytest.raises(ExpressionError):
        parse_expression("= '" + "A" * 5000 + "'")


def test_several_fragments_are_anded():
    preds = [parse_expression("!='EMP'"), parse_expression("LIKE 'EMP%'")]
    assert match_all(preds, "EMPLOYEES")
    assert not match_all(preds, "EMP")
    assert not match_all(preds, "DEPT")
    assert match_all([], "ANYTHING")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_never_fails_other_than_expression_error(text):
    try:
        pred = parse_expression(text)
    except ExpressionError:
        return
    assert isinstance(pred.matches("EMP"), bool)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z][A-Z0-9_$#]{0,10}", fullmatch=True), min_size=1, max_size=5))
def test_in_list_round_trip(names):
    expr = "IN (" + ", ".join(f"'{n}'" for n in names) + ")"
    pred = parse_expression(expr)
    assert all(pred.matches(n) for n in names)
    assert not parse_expression("NOT " + expr).matches(names[0])


TOKENS = ["NOT", "IN", "LIKE", "ESCAPE", "OR", "AND", "(", ")", ",", "'A'", "'B%'", "'_'", "'", "=", "!=", "<>", "^=", "<", ">=", ";", "--", "/*", "*/", " ", "1"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=8))
def test_token_soup_never_fails_other_than_expression_error(parts):
    text = " ".join(parts)
    try:
        pred = parse_expression(text)
    except ExpressionError:
        return
    assert pred.kind in ("CMP", "IN", "LIKE")
    assert isinstance(pred.matches("A"), bool)
