"""A small, bounded JSON Logic evaluator for computed fields (fees, ages, totals).

Expressions are data (``{"op": [args...]}``), never code. Only the operations in
:data:`OPERATIONS` exist; nesting is limited to :data:`MAX_DEPTH`, each evaluation to
:data:`MAX_STEPS` steps, arrays walked by ``map``/``filter``/``reduce`` to :data:`MAX_ITEMS`,
numbers to :data:`MAX_MAGNITUDE` and strings to :data:`MAX_STRING`. Anything else raises
:class:`~eforms.errors.LogicError`.

Beyond standard JSON Logic there are three date operations on ISO dates:
``years_between`` (whole years, i.e. an age), ``days_between`` and ``date_before``. There is
no "today": callers put the date they mean into the data (``{"var": "$today"}``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from eforms.errors import LogicError

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_MAGNITUDE",
    "MAX_STEPS",
    "MAX_STRING",
    "OPERATIONS",
    "check_expression",
    "evaluate",
    "truthy",
]

MAX_DEPTH = 32
MAX_STEPS = 10_000
MAX_ITEMS = 1_000
MAX_MAGNITUDE = 10**15
MAX_STRING = 10_000

OPERATIONS = frozenset(
    {
        "var", "missing", "if", "?:", "==", "!=", "===", "!==", "<", "<=", ">", ">=", "!",
        "!!", "and", "or", "+", "-", "*", "/", "%", "min", "max", "cat", "in", "map",
        "filter", "reduce", "all", "some", "none", "sum", "count", "round",
        "years_between", "days_between", "date_before",
    }
)  # fmt: skip

_SCOPED = frozenset({"map", "filter", "reduce", "all", "some", "none"})


def truthy(value: Any) -> bool:
    """JSON Logic truthiness: 0, "", [], null and false are false."""
    if isinstance(value, list):
        return len(value) > 0
    return bool(value)


def check_expression(expr: Any, *, _depth: int = 0, _where: str = "") -> None:
    """Refuse an expression with unknown operations or too much nesting."""
    if _depth > MAX_DEPTH:
        raise LogicError(f"{_where or '/'}: expression nested deeper than {MAX_DEPTH}")
    if isinstance(expr, list):
        for i, item in enumerate(expr):
            check_expression(item, _depth=_depth + 1, _where=f"{_where}/{i}")
        return
    if isinstance(expr, dict):
        if len(expr) != 1:
            raise LogicError(f"{_where or '/'}: an operation is an object with exactly one key")
        ((op, args),) = expr.items()
        if op not in OPERATIONS:
            raise LogicError(f"{_where or '/'}: unknown operation {op!r}")
        check_expression(args, _depth=_depth + 1, _where=f"{_where}/{op}")
        return
    if isinstance(expr, str) and len(expr) > MAX_STRING:
        raise LogicError(f"{_where or '/'}: string longer than {MAX_STRING}")
    if expr is not None and not isinstance(expr, str | int | float | bool):
        raise LogicError(f"{_where or '/'}: not a JSON value")


def evaluate(expr: Any, data: Any, *, max_steps: int = MAX_STEPS) -> Any:
    """Evaluate ``expr`` against ``data`` within the bounds above."""
    check_expression(expr)
    try:
        return _Evaluator(max_steps).run(expr, data, 0)
    except LogicError:
        raise
    except (IndexError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise LogicError(f"expression failed: {type(exc).__name__}: {exc}") from exc


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or value is None:
        return int(bool(value))
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError as exc:
                raise LogicError(f"not a number: {value[:40]!r}") from exc
    raise LogicError(f"not a number: {type(value).__name__}")


def _bounded(value: int | float) -> int | float:
    if value != value or abs(value) > MAX_MAGNITUDE:  # NaN or too large
        raise LogicError("arithmetic result out of bounds")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) > 10:
        raise LogicError("expected an ISO date string")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise LogicError(f"not an ISO date: {value!r}") from exc


def _years_between(a: date, b: date) -> int:
    years = b.year - a.year
    if (b.month, b.day) < (a.month, a.day):
        years -= 1
    return years


class _Evaluator:
    def __init__(self, max_steps: int) -> None:
        self.steps_left = max_steps

    def run(self, expr: Any, data: Any, depth: int) -> Any:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise LogicError("expression took too many steps")
        if depth > MAX_DEPTH:
            raise LogicError("expression nested too deeply")
        if isinstance(expr, list):
            return [self.run(e, data, depth + 1) for e in expr]
        if not isinstance(expr, dict):
            return expr
        ((op, raw),) = expr.items()
        args: list[Any] = raw if isinstance(raw, list) else [raw]
        if op in _SCOPED:
            return self._scoped(op, args, data, depth)
        if op in ("if", "?:"):
            return self._if(args, data, depth)
        if op == "and":
            result: Any = True
            for a in args:
                result = self.run(a, data, depth + 1)
                if not truthy(result):
                    return result
            return result
        if op == "or":
            result = False
            for a in args:
                result = self.run(a, data, depth + 1)
                if truthy(result):
                    return result
            return result
        values = [self.run(a, data, depth + 1) for a in args]
        return self._apply(op, values, data)

    def _if(self, args: list[Any], data: Any, depth: int) -> Any:
        i = 0
        while i + 1 < len(args):
            if truthy(self.run(args[i], data, depth + 1)):
                return self.run(args[i + 1], data, depth + 1)
            i += 2
        return self.run(args[i], data, depth + 1) if i < len(args) else None

    def _scoped(self, op: str, args: list[Any], data: Any, depth: int) -> Any:
        if len(args) < 2:
            raise LogicError(f"{op} needs an array and an expression")
        items = self.run(args[0], data, depth + 1)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise LogicError(f"{op} needs an array")
        if len(items) > MAX_ITEMS:
            raise LogicError(f"{op} over more than {MAX_ITEMS} items")
        body = args[1]
        if op == "map":
            return [self.run(body, item, depth + 1) for item in items]
        if op == "filter":
            return [item for item in items if truthy(self.run(body, item, depth + 1))]
        if op == "all":
            return bool(items) and all(truthy(self.run(body, i, depth + 1)) for i in items)
        if op == "some":
            return any(truthy(self.run(body, i, depth + 1)) for i in items)
        if op == "none":
            return not any(truthy(self.run(body, i, depth + 1)) for i in items)
        acc = self.run(args[2], data, depth + 1) if len(args) > 2 else None
        for item in items:
            acc = self.run(body, {"current": item, "accumulator": acc}, depth + 1)
        return acc

    def _var(self, values: list[Any], data: Any) -> Any:
        path = values[0] if values else ""
        default = values[1] if len(values) > 1 else None
        if path is None or path == "":
            return data
        current = data
        for part in str(path).split("."):
            if isinstance(current, Mapping) and part in current:
                current = current[part]
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return default
        return current

    def _apply(self, op: str, v: list[Any], data: Any) -> Any:
        func = _SIMPLE.get(op)
        if func is not None:
            return func(v)
        if op == "var":
            return self._var(v, data)
        if op == "missing":
            names = v[0] if len(v) == 1 and isinstance(v[0], list) else v
            return [n for n in names if self._var([n], data) in (None, "")]
        raise LogicError(f"unknown operation {op!r}")  # pragma: no cover - checked earlier


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[list[Any]], bool]:
    def run(v: list[Any]) -> bool:
        if len(v) < 2:
            raise LogicError("comparison needs two operands")
        nums = [_number(x) for x in v[:3]]
        return all(op(a, b) for a, b in itertools.pairwise(nums))

    return run


def _minus(v: list[Any]) -> int | float:
    if len(v) == 1:
        return _bounded(-_number(v[0]))
    return _bounded(_number(v[0]) - _number(v[1]))


def _div(v: list[Any]) -> int | float:
    b = _number(v[1])
    if b == 0:
        raise LogicError("division by zero")
    return _bounded(_number(v[0]) / b)


def _mod(v: list[Any]) -> int | float:
    b = _number(v[1])
    if b == 0:
        raise LogicError("division by zero")
    return _bounded(_number(v[0]) % b)


def _product(v: list[Any]) -> int | float:
    result: int | float = 1
    for x in v:
        result = _bounded(result * _number(x))
    return result


def _cat(v: list[Any]) -> str:
    out = "".join("" if x is None else str(x) for x in v)
    if len(out) > MAX_STRING:
        raise LogicError("string result too long")
    return out


def _in(v: list[Any]) -> bool:
    needle, haystack = v[0], v[1]
    if isinstance(haystack, str):
        return str(needle) in haystack
    return isinstance(haystack, list) and needle in haystack


def _sum(v: list[Any]) -> int | float:
    items = v[0] if len(v) == 1 and isinstance(v[0], list) else v
    return _bounded(sum(_number(x) for x in items))


def _count(v: list[Any]) -> int:
    items = v[0] if len(v) == 1 and isinstance(v[0], list) else v
    return len(items)


def _round(v: list[Any]) -> int | float:
    digits = int(_number(v[1])) if len(v) > 1 else 0
    return _bounded(round(_number(v[0]), max(-15, min(15, digits))))


_SIMPLE: dict[str, Callable[[list[Any]], Any]] = {
    "==": lambda v: v[0] == v[1],
    "===": lambda v: type(v[0]) is type(v[1]) and v[0] == v[1],
    "!=": lambda v: v[0] != v[1],
    "!==": lambda v: not (type(v[0]) is type(v[1]) and v[0] == v[1]),
    "<": _compare(lambda a, b: a < b),
    "<=": _compare(lambda a, b: a <= b),
    ">": _compare(lambda a, b: a > b),
    ">=": _compare(lambda a, b: a >= b),
    "!": lambda v: not truthy(v[0] if v else None),
    "!!": lambda v: truthy(v[0] if v else None),
    "+": lambda v: _bounded(sum(_number(x) for x in v)),
    "-": _minus,
    "*": _product,
    "/": _div,
    "%": _mod,
    "min": lambda v: min((_number(x) for x in v), default=None),
    "max": lambda v: max((_number(x) for x in v), default=None),
    "cat": _cat,
    "in": _in,
    "sum": _sum,
    "count": _count,
    "round": _round,
    "years_between": lambda v: _years_between(_date(v[0]), _date(v[1])),
    "days_between": lambda v: (_date(v[1]) - _date(v[0])).days,
    "date_before": lambda v: _date(v[0]) < _date(v[1]),
}
