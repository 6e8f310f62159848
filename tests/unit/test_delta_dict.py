"""DeltaDict: a pickle round trip always gives the dict's current contents."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from lifeline.delta_dict import DeltaDict


def round_trip(value: object) -> object:
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass(slots=True)
class State:
    rows: DeltaDict[str, tuple[int, str]] = field(default_factory=DeltaDict)


def test_every_kind_of_change_survives_the_round_trip() -> None:
    rows: DeltaDict[str, int] = DeltaDict({f"k{i}": i for i in range(100)})
    round_trip(rows)  # takes a base
    rows["new"] = 1
    rows["k1"] = -1
    del rows["k2"]
    assert rows.pop("k3") == 3
    assert rows.pop("missing", None) is None
    rows.setdefault("k4", 99)
    rows.setdefault("other", 7)
    rows.update({"k5": -5}, k6=-6)
    rows |= {"k7": -7}
    restored = round_trip(rows)
    assert isinstance(restored, DeltaDict)
    assert restored == rows
    assert restored.pop("k8") == 8  # a restored dict goes on tracking changes
    assert round_trip(restored) == restored


def test_a_pickle_after_a_few_changes_carries_the_base_and_only_those() -> None:
    state = State(DeltaDict({f"row-{i}": (i, "x" * 50) for i in range(2000)}))
    first = pickle.dumps(state)
    state.rows["row-1"] = (1, "changed")
    del state.rows["row-2"]
    second = pickle.dumps(state)
    # The base is copied as bytes: the second pickle is the first plus a delta.
    assert len(first) < len(second) < len(first) + 200
    restored = pickle.loads(second)
    assert restored.rows == state.rows
    assert "row-2" not in restored.rows


def test_changes_to_half_the_keys_take_a_new_base() -> None:
    rows: DeltaDict[int, int] = DeltaDict({i: i for i in range(100)})
    first = pickle.dumps(rows)
    for i in range(60):
        rows[i] = -i
    rebased = pickle.dumps(rows)
    assert len(rebased) < len(first) + 60 * 3  # no delta of 60 entries on top
    assert pickle.loads(rebased) == rows


def test_clear_starts_over() -> None:
    rows: DeltaDict[str, int] = DeltaDict(a=1)
    round_trip(rows)
    rows.clear()
    rows["b"] = 2
    assert round_trip(rows) == {"b": 2}


operations = st.lists(
    st.tuples(
        st.sampled_from(["set", "del", "pop", "pickle"]),
        st.integers(0, 30),
        st.integers(),
    ),
    max_size=80,
)


@given(operations)
def test_any_sequence_of_changes_and_pickles_restores_the_same_dict(
    ops: list[tuple[str, int, int]],
) -> None:
    tracked: DeltaDict[int, int] = DeltaDict()
    plain: dict[int, int] = {}
    for op, key, value in ops:
        if op == "set":
            tracked[key] = plain[key] = value
        elif op == "del" and key in plain:
            del tracked[key], plain[key]
        elif op == "pop":
            assert tracked.pop(key, None) == plain.pop(key, None)
        elif op == "pickle":
            tracked = round_trip(tracked)  # type: ignore[assignment]
        assert tracked == plain
    assert round_trip(tracked) == plain
