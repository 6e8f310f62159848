"""Golden-record versions after a resume: every new write beats the old ones.

A replay after a crash batches the same changes differently, and the
parties step folds one party's changes per batch, so the sequence alone
would restart below what was written before the crash.
"""

from __future__ import annotations

import pickle
from typing import Any

from lifeline.join.clusters import ClusterState, cluster_step, version_string
from tests.unit.join.test_parties_clusters import ACME, Pipeline, customer


def _renamed(n: int) -> dict[str, Any]:
    return {**ACME, "legal_name": f"Jane Doe {n}"}


def test_a_resumed_replay_in_one_batch_writes_above_the_crashed_run() -> None:
    first = Pipeline()
    first.feed([customer(1, 100, ACME)])
    snapshot = pickle.dumps((first.parties, first.clusters))
    before_crash = [
        item.version
        for n in range(1, 6)
        for item in first.feed([customer(1, 100 + n, _renamed(n), old=ACME)])
    ]

    resumed = Pipeline()  # a new process: a new step, the state from the snapshot
    resumed.parties, resumed.clusters = pickle.loads(snapshot)
    replayed = resumed.feed(
        [customer(1, 100 + n, _renamed(n), old=ACME) for n in range(1, 6)]
    )

    (item,) = replayed
    assert all(item.version > version for version in before_crash)


def test_versions_keep_rising_within_one_process() -> None:
    pipe = Pipeline()
    versions = [
        item.version
        for n in range(1, 4)
        for item in pipe.feed([customer(1, 100 + n, _renamed(n))])
    ]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3
    assert isinstance(pipe.clusters, ClusterState)
    assert pipe.clusters.generation > 0


def test_a_generation_beats_the_format_without_one() -> None:
    now_ms = 1_796_000_000_000
    assert version_string(1, now_ms) > version_string(10**18)
    assert version_string(5, now_ms + 1) > version_string(10**19 - 1, now_ms)
    assert version_string(2, now_ms) > version_string(1, now_ms)


def test_a_step_meeting_a_state_with_a_later_clock_still_raises_it() -> None:
    step = cluster_step()
    state, _ = step(None, [])
    state.generation = 10**15  # written by a process whose clock ran ahead
    other = cluster_step()
    resumed, _ = other(pickle.loads(pickle.dumps(state)), [])
    assert resumed.generation == 10**15 + 1
