"""The bench harness's own logic: generated events and the latency figures."""

from __future__ import annotations

from collections import Counter

from bench.cpu_shares import shares
from bench.events import Generator
from bench.live import Change
from bench.live_stats import capture_split, caught_up_at, lag_after, percentiles
from bench.markers import marker_events, marker_rows

from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.records import KafkaRecord


def _decoded(events: int) -> tuple[Generator, list[KafkaRecord]]:
    generator = Generator(events)
    made = [*generator, *marker_events(generator, 2)]
    records = [
        KafkaRecord(e.topic, max(e.partition, 0), i, e.key, e.value)
        for i, e in enumerate(made)
    ]
    return generator, records


def test_generated_events_decode_without_dead_letters() -> None:
    generator, records = _decoded(12_000)
    events, dead = EnvelopeDecoder().decode_batch(records)
    assert dead == []
    assert len(events) == len(records) >= 12_000
    ops = Counter(e.op for e in events)
    assert ops["c"] and ops["u"]
    assert generator.counts.duplicates > 0


def test_markers_are_the_last_rows_of_their_partitions() -> None:
    _, records = _decoded(6_000)
    decoded, _ = EnvelopeDecoder().decode_batch(records[-12:])
    found = {(e.coordinates.topic, e.row_id) for e in decoded}
    assert found == set(marker_rows(2))
    assert {r.partition for r in records[-12:]} == {0, 1}


def _change(committed: int, visible: int | None) -> Change:
    return Change("mariadb", 0, committed, committed, True, False, visible)


def test_caught_up_when_the_lag_is_back_after_its_peak() -> None:
    # Steady 200 ms, then nothing visible from 5 s to 8 s (a crash), then the
    # backlog drains until 9 s.
    changes = []
    for t in range(0, 15_000, 100):
        if 5_000 <= t < 8_000:
            visible = 8_500 + (t - 5_000) // 6
        else:
            visible = max(t + 200, 9_000 if t < 9_000 else 0)
        changes.append(_change(t, visible))
    lags = lag_after(changes, 5_000, 15_500)
    assert max(lag for _, lag in lags) >= 3_000
    caught = caught_up_at(lags, 1_000)
    assert caught is not None
    assert 8_500 <= caught <= 10_000


def test_never_caught_up_when_changes_stay_unseen() -> None:
    changes = [_change(t, t + 100) for t in range(0, 3_000, 100)]
    changes += [_change(t, None) for t in range(3_000, 6_000, 100)]
    assert caught_up_at(lag_after(changes, 2_000, 7_000), 1_000) is None


def test_percentiles_mark_lower_bounds_of_unseen_changes() -> None:
    figures = percentiles(list(range(1, 100)), [5_000])
    assert figures["p50_ms"] == 51
    assert figures["max_ms"] == 5_000
    assert figures["censored"] == 1
    assert figures["lower_bound"] == ["max_ms", "mean_ms"]


def _captured(committed: int, captured: int | None, visible: int | None) -> Change:
    change = _change(committed, visible)
    change.captured_ms = captured
    return change


def test_latency_splits_at_the_cdc_topic() -> None:
    changes = [
        _captured(1000, 1040, 1100),  # capture 40, flow 60
        _captured(1000, 3000, 3010),  # capture 2000, flow 10
        _captured(1000, 1010, None),  # not visible when the watcher stopped at 5000
        _captured(1000, None, 1200),  # its record was not read back: not counted
    ]
    capture, flow = capture_split(changes, ended_ms=5000)
    assert capture["seen"] == 3
    assert (capture["p50_ms"], capture["max_ms"]) == (40.0, 2000.0)
    assert flow["seen"] == 2
    assert flow["censored"] == 1
    assert flow["max_ms"] == 3990.0  # at least: 1010 -> 5000
    assert "max_ms" in flow["lower_bound"]


def test_cpu_shares_are_per_program_over_the_run() -> None:
    before = {1: ("java", 10.0), 2: ("python", 5.0), 3: ("python", 1.0)}
    after = {
        1: ("java", 40.0),
        2: ("python", 20.0),
        3: ("python", 1.1),
        4: ("redis-server", 0.1),  # started during the run: all of it counts
    }
    got = shares(before, after, seconds=30.0, names={2: "golden flow"})
    assert got == {"java": 1.0, "golden flow": 0.5}
    assert list(got) == ["java", "golden flow"]  # busiest first; under 1% left out
