"""The safe JSON Logic evaluator: what it computes and what it refuses."""

from __future__ import annotations

import pytest

from eforms.errors import LogicError
from eforms.logic import check_expression, evaluate


def test_fee_age_and_total() -> None:
    """Conditionals, ages from explicit dates, and reduce-based totals work."""
    assert (
        evaluate({"if": [{"==": [{"var": "c"}, "online"]}, 10000, 20000]}, {"c": "online"}) == 10000
    )
    age = {"years_between": [{"var": "b"}, {"var": "$today"}]}
    assert evaluate(age, {"b": "2007-09-02", "$today": "2025-09-01"}) == 17
    assert evaluate(age, {"b": "2007-09-01", "$today": "2025-09-01"}) == 18
    total = {"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}
    assert evaluate(total, {"xs": [1, 2, 3]}) == 6
    assert evaluate({"max": [0, {"-": [{"var": "n"}, 2]}]}, {"n": 5}) == 3


def test_unknown_operations_are_refused() -> None:
    """No operation outside the list exists: nothing can call code."""
    with pytest.raises(LogicError, match="unknown operation"):
        check_expression({"__import__": ["os"]})
    with pytest.raises(LogicError, match="exactly one key"):
        check_expression({"+": [1], "-": [2]})


def test_bounds() -> None:
    """Depth, steps, magnitude and division by zero are bounded, never crash."""
    deep: object = 1
    for _ in range(40):
        deep = {"+": [deep]}
    with pytest.raises(LogicError, match="deeper"):
        evaluate(deep, {})
    many = {"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}
    with pytest.raises(LogicError, match="steps"):
        evaluate(many, {"xs": list(range(1000))}, max_steps=500)
    with pytest.raises(LogicError, match="bounds"):
        evaluate({"*": [10**10, 10**10]}, {})
    with pytest.raises(LogicError, match="zero"):
        evaluate({"/": [1, 0]}, {})
    with pytest.raises(LogicError):
        evaluate({"years_between": ["not a date", "2025-01-01"]}, {})
