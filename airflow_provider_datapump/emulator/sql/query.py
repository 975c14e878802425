"""SELECT over the emulator's dictionary views and tables: parsed by sqlglot (Oracle dialect), evaluated here.

Supported: FROM views or tables with aliases, inner JOIN ... ON, comma joins, WHERE, comparison,
AND/OR/NOT, LIKE [ESCAPE], IN, IS [NOT] NULL, BETWEEN, arithmetic, ``||``, SYSDATE, USER,
SYS_CONTEXT('USERENV', ...), TO_CLOB(BFILENAME(dir, file)), COUNT/SUM/MIN/MAX/AVG without GROUP BY,
ROUND, NULLIF, NVL/COALESCE, UPPER/LOWER, DISTINCT, ORDER BY. A user table has no modelled
columns: only ``COUNT(*)`` reads it. Anything else is ORA-00900/00904/00942.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .binds import Binds
from .ora import OracleError, ora
from .views import VIEWS, Session, View, identity

__all__ = ["Result", "run_query"]


@dataclass
class Result:
    columns: list[tuple[str, str]]  # (column name, Oracle type name)
    rows: list[list[Any]]


def _unsupported(why: str) -> OracleError:
    return ora(900, more=f"(emulator) {why}")


def _ident(node: exp.Identifier | str | None) -> str:
    if node is None:
        return ""
    if isinstance(node, str):
        return node.upper()
    return node.this if node.quoted else node.this.upper()


@dataclass
class _Source:
    alias: str
    view: View | None  # None: a user table whose rows are not modelled
    table: tuple[str, str] | None = None


def _source(table: exp.Expression, s: Session) -> _Source:
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        raise _unsupported("only tables and views may follow FROM")
    name, owner = _ident(table.this), _ident(table.args.get("db"))
    alias_node = table.args.get("alias")
    alias = _ident(alias_node.this) if alias_node is not None and alias_node.this else name
    if table.args.get("catalog"):
        raise ora(942)
    if owner in ("", "SYS", "PUBLIC") and name in VIEWS:
        return _Source(alias, VIEWS[name](s))
    owner = owner or s.user
    if name in s.backend.catalog.schemas.get(owner, {}) or any(
        j.owner == owner and j.name == name for j in s.backend.visible_jobs()
    ):
        return _Source(alias, None, (owner, name))
    raise ora(942)


class _Scope:
    def __init__(self, sources: list[_Source], s: Session, binds: Binds, order: list[str]):
        self.sources, self.session, self.binds, self.order = sources, s, binds, order

    def column(self, col: exp.Column, row: dict[str, dict[str, Any]]) -> Any:
        name = _ident(col.this) if isinstance(col.this, exp.Identifier) else None
        if name is None:
            raise _unsupported("this column form is not modelled")
        table = _ident(col.args.get("table"))
        hits = [
            src
            for src in self.sources
            if (not table or src.alias == table) and src.view and name in src.view.columns
        ]
        if len(hits) > 1:
            raise ora(918)
        if not hits:
            if not table and name == "USER":
                return self.session.user
            if not table and name == "SYSDATE":
                return self.session.sysdate
            raise ora(904, f"{table}.{name}" if table else name)
        return row[hits[0].alias][name]


_Row = dict[str, dict[str, Any]]
_AGGREGATES = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg)


def _num(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, _dt.datetime)):
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ora(1722) from None
    return int(f) if f.is_integer() else f


def _like(value: Any, pattern: Any, escape: str | None) -> bool | None:
    if value is None or pattern is None:
        return None
    out, i, p = [], 0, str(pattern)
    while i < len(p):
        c = p[i]
        if escape and c == escape and i + 1 < len(p):
            out.append(re.escape(p[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.fullmatch("".join(out), str(value), re.DOTALL) is not None


def _compare(op: type[exp.Expression], a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    if isinstance(a, (int, float)) != isinstance(b, (int, float)):
        a, b = _num(a), _num(b)
    table: dict[type[exp.Expression], Callable[[Any, Any], bool]] = {
        exp.EQ: lambda x, y: x == y,
        exp.NEQ: lambda x, y: x != y,
        exp.GT: lambda x, y: x > y,
        exp.GTE: lambda x, y: x >= y,
        exp.LT: lambda x, y: x < y,
        exp.LTE: lambda x, y: x <= y,
    }
    try:
        return table[op](a, b)
    except TypeError:  # a DATE against a number, say
        raise ora(932) from None


def _arith(node: exp.Expression, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, _dt.datetime) and isinstance(node, (exp.Add, exp.Sub)):
        delta = _dt.timedelta(days=float(_num(b)))
        return a + delta if isinstance(node, exp.Add) else a - delta
    a, b = _num(a), _num(b)
    if isinstance(node, exp.Add):
        return a + b
    if isinstance(node, exp.Sub):
        return a - b
    if isinstance(node, exp.Mul):
        return a * b
    if b == 0:
        raise OracleError(1476, "ORA-01476: divisor is equal to zero")
    q = a / b
    return int(q) if isinstance(q, float) and q.is_integer() else q


def _function(name: str, args: list[Any], s: Session) -> Any:
    if name == "SYS_CONTEXT":
        if len(args) < 2 or str(args[0]).upper() != "USERENV":
            raise _unsupported("SYS_CONTEXT reads only the USERENV namespace here")
        return identity(s).get(str(args[1]).upper())
    if name == "BFILENAME" and len(args) == 2:
        return ("BFILE", args[0], args[1])
    if name == "TO_CLOB" and len(args) == 1:
        if isinstance(args[0], tuple) and args[0][:1] == ("BFILE",):
            return s.backend.read_directory_file(args[0][1], args[0][2])
        return None if args[0] is None else str(args[0])
    if name in ("NVL", "COALESCE") and args:
        return next((a for a in args if a is not None), None)
    raise _unsupported(f"function {name} is not modelled")


class _Eval:
    def __init__(self, scope: _Scope):
        self.scope = scope

    def __call__(self, node: exp.Expression, row: _Row, group: list[_Row] | None = None) -> Any:
        value = self._value(node, row, group)
        if isinstance(node, (exp.Like, exp.In, exp.Between, exp.Is, exp.Escape)) and node.args.get("negate"):
            return None if value is None else not value  # sqlglot writes NOT LIKE / NOT IN as negate=True
        return value

    def _value(
        self,
        node: exp.Expression,
        row: dict[str, dict[str, Any]],
        group: list[dict[str, dict[str, Any]]] | None = None,
    ) -> Any:
        ev = self
        if isinstance(node, exp.Paren):
            return ev(node.this, row, group)
        if isinstance(node, exp.Alias):
            return ev(node.this, row, group)
        if isinstance(node, exp.Literal):
            return node.this if node.is_string else _num(node.this)
        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.Boolean):
            return node.this
        if isinstance(node, exp.Placeholder):
            return self.scope.binds.resolve(str(node.this), self.scope.order)
        if isinstance(node, exp.Column):
            return self.scope.column(node, row)
        if isinstance(node, exp.CurrentTimestamp) or isinstance(node, exp.CurrentDate):
            return self.scope.session.sysdate
        if isinstance(node, exp.CurrentUser):
            return self.scope.session.user
        if isinstance(node, _AGGREGATES):
            if group is None:
                raise OracleError(934, "ORA-00934: group function is not allowed here")
            return self._aggregate(node, group)
        if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
            return _compare(type(node), ev(node.this, row, group), ev(node.expression, row, group))
        if isinstance(node, exp.And):
            a, b = ev(node.this, row, group), ev(node.expression, row, group)
            return False if a is False or b is False else (None if a is None or b is None else True)
        if isinstance(node, exp.Or):
            a, b = ev(node.this, row, group), ev(node.expression, row, group)
            return True if a is True or b is True else (None if a is None or b is None else False)
        if isinstance(node, exp.Not):
            a = ev(node.this, row, group)
            return None if a is None else not a
        if isinstance(node, exp.Is):
            return ev(node.this, row, group) is None if isinstance(node.expression, exp.Null) else None
        if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like):
            like = node.this
            hit = _like(
                ev(like.this, row, group), ev(like.expression, row, group), ev(node.expression, row, group)
            )
            return hit if hit is None or not like.args.get("negate") else not hit
        if isinstance(node, exp.Like):
            return _like(ev(node.this, row, group), ev(node.expression, row, group), None)
        if isinstance(node, exp.In) and not node.args.get("query"):
            value = ev(node.this, row, group)
            options = [ev(e, row, group) for e in node.expressions]
            if value is None:
                return None
            return any(_compare(exp.EQ, value, o) for o in options if o is not None)
        if isinstance(node, exp.Between):
            v, lo, hi = (
                ev(node.this, row, group),
                ev(node.args["low"], row, group),
                ev(node.args["high"], row, group),
            )
            a, b = _compare(exp.GTE, v, lo), _compare(exp.LTE, v, hi)
            return None if a is None or b is None else a and b
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
            return _arith(node, ev(node.this, row, group), ev(node.expression, row, group))
        if isinstance(node, exp.Neg):
            v = _num(ev(node.this, row, group))
            return None if v is None else -v
        if isinstance(node, exp.DPipe):
            parts = [ev(node.this, row, group), ev(node.expression, row, group)]
            return "".join("" if p is None else str(p) for p in parts)
        if isinstance(node, exp.Round):
            v, d = _num(ev(node.this, row, group)), node.args.get("decimals")
            places = 0 if d is None else int(_num(ev(d, row, group)))
            return None if v is None else (round(v, places) if places else int(round(v)))
        if isinstance(node, exp.Nullif):
            a, b = ev(node.this, row, group), ev(node.expression, row, group)
            return None if _compare(exp.EQ, a, b) else a
        if isinstance(node, exp.Coalesce):
            for e in [node.this, *node.expressions]:
                v = ev(e, row, group)
                if v is not None:
                    return v
            return None
        if isinstance(node, (exp.Upper, exp.Lower)):
            v = ev(node.this, row, group)
            return None if v is None else (str(v).upper() if isinstance(node, exp.Upper) else str(v).lower())
        if isinstance(node, exp.Anonymous):
            return _function(
                str(node.this).upper(), [ev(a, row, group) for a in node.expressions], self.scope.session
            )
        raise _unsupported(f"{node.key} is not modelled")

    def _aggregate(self, node: exp.Expression, group: list[dict[str, dict[str, Any]]]) -> Any:
        if isinstance(node, exp.Count):
            if isinstance(node.this, exp.Star):
                return len(group)
            target = node.this.this if isinstance(node.this, exp.Distinct) else node.this
            if isinstance(node.this, exp.Distinct):
                target = node.this.expressions[0]
            values = [self(target, r) for r in group]
            values = [v for v in values if v is not None]
            return len(set(values)) if isinstance(node.this, exp.Distinct) else len(values)
        values = [_num(self(node.this, r)) for r in group]
        values = [v for v in values if v is not None]
        if not values:
            return None
        if isinstance(node, exp.Sum):
            return sum(values)
        if isinstance(node, exp.Min):
            return min(values)
        if isinstance(node, exp.Max):
            return max(values)
        avg = sum(values) / len(values)
        return int(avg) if float(avg).is_integer() else avg


def _type_name(values: list[Any]) -> str:
    for v in values:
        if isinstance(v, bool):
            return "VARCHAR2"
        if isinstance(v, (int, float)):
            return "NUMBER"
        if isinstance(v, _dt.datetime):
            return "DATE"
        if isinstance(v, str):
            return "VARCHAR2"
    return "VARCHAR2"


def _heading(node: exp.Expression) -> str:
    if isinstance(node, exp.Alias):
        return _ident(node.args["alias"])
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        return _ident(node.this)
    return re.sub(r"\s+", "", node.sql(dialect="oracle")).upper()


def _count_only(select: exp.Select, sources: list[_Source], s: Session) -> Result | None:
    """SELECT COUNT(*) FROM owner.table: the one read of a user table the emulator models."""
    if len(sources) != 1 or sources[0].view is not None:
        return None
    items = select.expressions
    if (
        select.args.get("where")
        or len(items) != 1
        or not isinstance(items[0].unalias(), exp.Count)
        or not isinstance(items[0].unalias().this, exp.Star)
    ):
        raise _unsupported("only COUNT(*) reads a user table (its columns are not modelled)")
    assert sources[0].table is not None
    owner, name = sources[0].table
    return Result([(_heading(items[0]), "NUMBER")], [[s.backend.count_rows(owner, name)]])


def _parse(sql: str) -> exp.Select:
    try:
        tree = sqlglot.parse_one(sql, read="oracle")
    except (ParseError, TokenError):
        raise ora(900) from None
    except (ValueError, RecursionError):  # sqlglot's other refusals of odd text
        raise _unsupported("the statement could not be parsed") from None
    # JDBC's ``?`` placeholders are bound by position (ORDS's ``"index"`` binds): number them in text order.
    unnamed = [p for p in tree.find_all(exp.Placeholder, bfs=False) if not p.this]
    for number, placeholder in enumerate(unnamed, start=1):
        placeholder.set("this", str(number))
    if not isinstance(tree, exp.Select):
        raise _unsupported("only a plain SELECT is modelled (no UNION, no WITH)")
    for key in ("group", "having", "with", "connect", "qualify", "windows", "pivots", "into", "locks"):
        if tree.args.get(key):
            raise _unsupported(f"{key.upper()} is not modelled")
    return tree


def run_query(sql: str, s: Session, binds: Binds, order: list[str] | None = None) -> Result:
    tree = _parse(sql)
    order = order or []
    from_ = tree.args.get("from_") or tree.args.get("from")
    if from_ is None:
        raise OracleError(923, "ORA-00923: FROM keyword not found where expected")
    sources = [_source(from_.this, s)]
    conditions: list[exp.Expression] = []
    for join in tree.args.get("joins") or []:
        if join.args.get("side") or join.args.get("kind") not in (None, "", "INNER", "CROSS"):
            raise _unsupported("only inner joins are modelled")
        sources.append(_source(join.this, s))
        if join.args.get("on"):
            conditions.append(join.args["on"])
        if join.args.get("using"):
            raise _unsupported("JOIN ... USING is not modelled")
    counted = _count_only(tree, sources, s)
    if counted is not None:
        return counted
    if any(src.view is None for src in sources):
        raise _unsupported("user tables join nothing here (their columns are not modelled)")
    scope = _Scope(sources, s, binds, order)
    ev = _Eval(scope)
    where = tree.args.get("where")
    if where is not None:
        conditions.append(where.this)
    rows: list[dict[str, dict[str, Any]]] = [{}]
    for src in sources:
        assert src.view is not None
        rows = [{**r, src.alias: v} for r in rows for v in src.view.rows]
    rows = [r for r in rows if all(ev(c, r) is True for c in conditions)]

    items: list[exp.Expression] = []
    for e in tree.expressions:
        if isinstance(e, exp.Star):
            items += [exp.column(c, src.alias, quoted=True) for src in sources for c in _columns(src)]
        elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
            star = next((x for x in sources if x.alias == _ident(e.args.get("table"))), None)
            if star is None or star.view is None:
                raise ora(904, _ident(e.args.get("table")))
            items += [exp.column(c, star.alias, quoted=True) for c in star.view.columns]
        else:
            items.append(e)
    headings = [_heading(e) for e in items]
    aggregate = any(e.find(*_AGGREGATES) for e in items)
    if aggregate:
        out = [
            [
                ev(e, rows[0] if rows else {}, rows) if e.find(*_AGGREGATES) else _plain(ev, e, rows)
                for e in items
            ]
        ]
        sort_rows = [rows[0] if rows else {}]
    else:
        out = [[ev(e, r) for e in items] for r in rows]
        sort_rows = rows
    order_by = tree.args.get("order")
    if order_by is not None and not aggregate:
        out = _ordered(out, sort_rows, order_by, headings, ev)
    if tree.args.get("distinct"):
        seen: list[list[Any]] = []
        for r in out:
            if r not in seen:
                seen.append(r)
        out = seen
    types = [_type_name([r[i] for r in out]) for i in range(len(items))]
    types = ["CLOB" if _is_clob(e) else t for e, t in zip(items, types, strict=True)]
    return Result(list(zip(headings, types, strict=True)), out)


def _columns(src: _Source) -> list[str]:
    return src.view.columns if src.view is not None else []


def _is_clob(e: exp.Expression) -> bool:
    node = e.unalias()
    return isinstance(node, exp.Anonymous) and str(node.this).upper() == "TO_CLOB"


def _plain(ev: _Eval, e: exp.Expression, rows: list[dict[str, dict[str, Any]]]) -> Any:
    if rows and any(isinstance(n, exp.Column) for n in e.find_all(exp.Column)):
        raise OracleError(937, "ORA-00937: not a single-group group function")
    return ev(e, rows[0] if rows else {})


def _ordered(
    out: list[list[Any]],
    rows: list[dict[str, dict[str, Any]]],
    order_by: exp.Order,
    headings: list[str],
    ev: _Eval,
) -> list[list[Any]]:
    keyed = list(zip(out, rows, strict=True))
    for ordered in reversed(order_by.expressions):
        node = ordered.this
        if isinstance(node, exp.Literal) and not node.is_string:
            pos: int | None = int(node.this) - 1
        elif isinstance(node, exp.Column) and not node.args.get("table") and _ident(node.this) in headings:
            pos = headings.index(_ident(node.this))
        else:
            pos = None
        values = [p[0][pos] if pos is not None else ev(node, p[1]) for p in keyed]
        # Oracle sorts NULLs last ascending, first descending.
        ranked = sorted(
            zip(values, keyed, strict=True),
            key=lambda vp: (vp[0] is None, vp[0] if vp[0] is not None else 0),
            reverse=bool(ordered.args.get("desc")),
        )
        keyed = [pair for _, pair in ranked]
    return [p[0] for p in keyed]
