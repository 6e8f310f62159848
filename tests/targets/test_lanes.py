"""Lanes: order within a key, progress across keys, bounds."""

from __future__ import annotations

from lifeline.targets.lanes import LaneQueue


def test_a_lane_hands_out_its_next_item_only_after_done() -> None:
    queue: LaneQueue[str] = LaneQueue(10)
    for item in ("a1", "a2", "b1"):
        assert queue.put(item[0], item)

    assert queue.take(0) == ("a", "a1")
    assert queue.take(0) == ("b", "b1")  # a is busy: b goes ahead
    assert queue.take(0) is None
    queue.done("a")
    assert queue.take(0) == ("a", "a2")
    assert (queue.queued, queue.in_flight) == (0, 2)
    queue.done("a")
    queue.done("b")
    assert queue.wait_idle(0)


def test_full_queue_refuses_and_close_returns_the_rest() -> None:
    queue: LaneQueue[str] = LaneQueue(2)
    assert queue.put("a", "a1")
    assert queue.put("b", "b1")
    assert not queue.put("c", "c1")
    assert queue.take(0) == ("a", "a1")

    assert queue.close() == ["b1"]
    assert not queue.put("d", "d1")
    assert queue.take(0) is None
    assert queue.closed


def test_drop_lane_removes_only_that_key() -> None:
    queue: LaneQueue[str] = LaneQueue(10)
    for item in ("a1", "a2", "a3", "b1"):
        queue.put(item[0], item)
    assert queue.take(0) == ("a", "a1")

    assert queue.drop_lane("a") == ["a2", "a3"]
    queue.done("a")
    assert queue.take(0) == ("b", "b1")
    assert queue.take(0) is None
    assert not queue.wait_idle(0)
