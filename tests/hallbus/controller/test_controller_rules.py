"""The calling rule as plain data: order, weights, ratios, only_when_empty, transfers, arrival."""

from __future__ import annotations

import pytest

from hallbus.config import WindowRule
from hallbus.controller.rules import Candidate, RuleState, look_ahead, parse_ratio, pick


def cands(spec: str, start: int = 0) -> list[Candidate]:
    """'A A* B' -> A normal, A priority, B normal, arriving in that order."""
    out = []
    for i, tok in enumerate(spec.split()):
        service = tok[0]
        out.append(Candidate(f"t{start + i}", f"{service}{start + i:03d}", service, tok.endswith("*"), float(start + i), start + i))
    return out


def drain(services: list[str], rule: WindowRule, pool: list[Candidate], n: int | None = None) -> list[str]:
    """Call until nobody is left (or n calls); the numbers in call order."""
    state = RuleState()
    out = []
    pool = list(pool)
    while pool and (n is None or len(out) < n):
        got = pick(services, rule, state, pool)
        if got is None:
            break
        chosen, state = got
        out.append(chosen.number)
        pool.remove(chosen)
    return out


def test_order_mode_takes_the_first_service_in_the_window_list() -> None:
    pool = cands("A A B B")
    assert drain(["B", "A"], WindowRule(mode="order"), pool) == ["B002", "B003", "A000", "A001"]


def test_priority_first_when_no_ratio_then_arrival() -> None:
    pool = cands("A A A* A A*")
    assert drain(["A"], WindowRule(), pool) == ["A002", "A004", "A000", "A001", "A003"]


def test_ratio_two_normal_one_priority_in_a_busy_hall() -> None:
    pool = cands("A A A A A A A* A* A* A*")
    order = drain(["A"], WindowRule(ratio="2:1"), pool)
    kinds = "".join("P" if int(n[1:]) >= 6 else "N" for n in order)
    assert kinds == "PNNPNNPNNP"


def test_ratio_serves_a_lone_kind_and_owes_the_other_its_turn() -> None:
    rule = WindowRule(ratio="2:1")
    state = RuleState()
    normals = cands("A A A A")
    # Only normal tickets: they are called one after the other.
    for expected in ("A000", "A001"):
        chosen, state = pick(["A"], rule, state, normals) or pytest.fail("nobody picked")
        assert chosen.number == expected
        normals.remove(chosen)
    # A priority ticket arrives: its slot was never used, so it is next.
    pool = normals + cands("A*", start=10)
    chosen, state = pick(["A"], rule, state, pool) or pytest.fail("nobody picked")
    assert chosen.number == "A010"


def test_weights_share_calls_between_services() -> None:
    pool = cands(" ".join(["C"] * 12 + ["F"] * 12))
    order = drain(["C", "F"], WindowRule(mode="weight", weights={"C": 3, "F": 1}), pool, n=8)
    assert sum(n.startswith("C") for n in order) == 6
    assert sum(n.startswith("F") for n in order) == 2
    # smooth: never more than three C in a row
    assert "CCCC" not in "".join(n[0] for n in order)


def test_only_when_empty_holds_back_a_service_while_another_waits() -> None:
    rule = WindowRule(ratio="2:1", only_when_empty={"A": ["B"]})
    # An A priority ticket does not jump a B normal one at this window.
    pool = cands("A* B A B")
    assert drain(["B", "A"], rule, pool) == ["B001", "B003", "A000", "A002"]


def test_tickets_transferred_to_the_window_come_first() -> None:
    pool = cands("A A")
    moved = Candidate("x", "D007", "D", False, 100.0, 99, targeted=True)
    got = pick(["A"], WindowRule(), RuleState(), [*pool, moved])
    assert got is not None and got[0].number == "D007"


def test_ties_by_arrival_use_issue_order() -> None:
    a = Candidate("a", "A002", "A", False, 5.0, 2)
    b = Candidate("b", "A001", "A", False, 5.0, 1)
    got = pick(["A"], WindowRule(), RuleState(), [a, b])
    assert got is not None and got[0].number == "A001"


def test_nobody_eligible_gives_none() -> None:
    assert pick(["A"], WindowRule(), RuleState(), cands("B B")) is None


def test_look_ahead_does_not_move_the_real_state() -> None:
    rule = WindowRule(ratio="1:1")
    state = RuleState()
    nxt = look_ahead(["A"], rule, state, cands("A A A* A*"), 3)
    assert [c.number for c in nxt] == ["A002", "A000", "A003"]
    assert state.pos == 0


@pytest.mark.parametrize("text,expected", [("2:1", (2, 1)), (" 3 : 2 ", (3, 2)), ("", None)])
def test_parse_ratio(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_ratio(text) == expected


@pytest.mark.parametrize("text", ["2-1", "a:b", "0:0", "2:1:1"])
def test_parse_ratio_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ratio(text)


def test_rule_state_survives_json_and_garbage() -> None:
    st = RuleState(2, {"C": -1, "F": 1})
    assert RuleState.from_json(st.to_json()) == st
    assert RuleState.from_json("nonsense") == RuleState()
    assert RuleState.from_json({"pos": "x", "credit": {"C": "y"}}) == RuleState()
