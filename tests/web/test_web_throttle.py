"""The failed-lookup throttle of hallweb: free attempts, doubling waits, forgetting, a success clearing one key."""

from web.throttle import FailureThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_waits_grow_after_the_free_attempts_and_are_forgotten() -> None:
    clock = Clock()
    t = FailureThrottle(free=2, base_s=10, max_s=35, forget_s=600, clock=clock)
    t.failed("addr:a", "case:1")
    t.failed("addr:a", "case:1")
    assert t.wait_s("addr:a") == 0 == t.wait_s("case:1")
    t.failed("addr:a", "case:1")
    assert t.wait_s("addr:a") == 10 and t.wait_s("addr:b", "case:1") == 10  # either key holds the door
    t.failed("addr:a")
    assert t.wait_s("addr:a") == 20
    t.failed("addr:a")
    t.failed("addr:a")
    assert t.wait_s("addr:a") == 35  # capped
    clock.now += 36
    assert t.wait_s("addr:a") == 0
    t.succeeded("addr:a")
    t.failed("addr:a")
    assert t.wait_s("addr:a") == 0  # a success starts the client's count again ...
    assert t.wait_s("case:1") == 0
    t.failed("case:1")
    assert t.wait_s("case:1") == 20  # ... but not the case number's
    clock.now += 700
    t.failed("case:1")
    assert t.wait_s("case:1") == 0  # quiet for forget_s: a fresh start
