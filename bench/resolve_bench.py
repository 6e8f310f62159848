"""Identity-resolution benchmark on labeled synthetic customers.

Generates customers across erp, identity and billing with known truth and
realistic noise (lifeline.resolve.synthetic), resolves them in batches with
the same code the dataflow runs, and prints pairwise precision, recall and
F1, the recall ceiling, throughput (wall and CPU), the state's pickled
size, and which traits the missed and wrong pairs carry. Then it churns a
share of the records (delete, update without email and phone, restore) and
checks the incremental result equals a from-scratch run.

    .venv/bin/python bench/resolve_bench.py --customers 20000 --seed 7
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lifeline.resolve import (
    DEFAULT_CONFIG,
    RecordChange,
    RecordDelete,
    RecordKeys,
    ResolutionConfig,
    Resolver,
    SourceRecord,
    load_config,
    normalise,
    similarity,
)
from lifeline.resolve.evaluate import PairScores, pairwise_scores
from lifeline.resolve.synthetic import LabeledRecord, generate


class Clock:
    """Wall and CPU seconds of a block (the machine may be shared)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rate(self, n: int) -> str:
        return (
            f"{self.wall:.2f}s wall, {n / self.wall:,.0f}/s; "
            f"{self.cpu:.2f}s CPU, {n / self.cpu:,.0f}/s"
        )


def clear_caches() -> None:
    """Empty the normalisers' and similarity caches: every run starts cold."""
    for module in (normalise, similarity):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def key_records(
    labeled: Sequence[LabeledRecord], config: ResolutionConfig
) -> list[SourceRecord]:
    return [SourceRecord.from_fields(r.system, r.id, r.fields, config) for r in labeled]


def resolve_all(
    changes: Sequence[RecordChange], batch: int, resolver: Resolver
) -> tuple[int, int]:
    """Feed ``changes`` in batches; (merge events, split events)."""
    kinds: Counter[str] = Counter()
    for start in range(0, len(changes), batch):
        result = resolver.resolve(changes[start : start + batch])
        kinds.update(event.kind for event in result.events)
    return kinds["merged"], kinds["split"]


def recall_ceiling(
    labeled: Sequence[LabeledRecord], keys: Mapping[str, RecordKeys]
) -> float:
    """Recall if every true pair sharing any evidence beyond a name linked."""
    parent: dict[str, str] = {}

    def root(ref: str) -> str:
        while parent.get(ref, ref) != ref:
            ref = parent[ref]
        return ref

    for members in _groups(labeled, lambda r: r.truth):
        for a, b in itertools.combinations(members, 2):
            if _evidence(keys[a.ref], keys[b.ref]):
                parent[root(a.ref)] = root(b.ref)
    oracle = {r.ref: root(r.ref) for r in labeled}
    return pairwise_scores(oracle, {r.ref: r.truth for r in labeled}).recall


def _evidence(a: RecordKeys, b: RecordKeys) -> bool:
    if a.ref in b.links or b.ref in a.links or set(a.links) & set(b.links):
        return True
    same = [getattr(a, k) and getattr(a, k) == getattr(b, k) for k in _EVIDENCE]
    return any(same) or bool(a.postal and (a.postal, a.house) == (b.postal, b.house))


_EVIDENCE = ("email", "phone", "tax", "domain")


def error_traits(
    labeled: Sequence[LabeledRecord], predicted: Mapping[str, str]
) -> tuple[Counter[str], Counter[str]]:
    """Traits on the records of missed pairs and of wrong pairs."""
    missed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for members in _groups(labeled, lambda r: r.truth):
        for a, b in itertools.combinations(members, 2):
            if predicted[a.ref] != predicted[b.ref]:
                missed.update({"pairs", *a.traits, *b.traits})
    for members in _groups(labeled, lambda r: predicted[r.ref]):
        for a, b in itertools.combinations(members[:50], 2):
            if a.truth != b.truth:
                wrong.update({"pairs", *a.traits, *b.traits})
    return missed, wrong


def _groups(
    labeled: Sequence[LabeledRecord], key: Callable[[LabeledRecord], str]
) -> list[list[LabeledRecord]]:
    groups: dict[str, list[LabeledRecord]] = defaultdict(list)
    for record in labeled:
        groups[key(record)].append(record)
    return [g for g in groups.values() if len(g) > 1]


def churn(
    resolver: Resolver, labeled: Sequence[LabeledRecord], args: argparse.Namespace
) -> None:
    """Delete, weaken and restore a share of records; compare with scratch."""
    config = resolver.config
    chosen = random.Random(args.seed).sample(
        list(labeled), int(len(labeled) * args.churn)
    )
    deletes: list[RecordChange] = [RecordDelete(r.system, r.id) for r in chosen]
    weak = [
        {k: v for k, v in r.fields.items() if k not in ("email", "phone")}
        for r in chosen
    ]
    updates: list[RecordChange] = [
        SourceRecord.from_fields(r.system, r.id, fields, config)
        for r, fields in zip(chosen, weak, strict=True)
    ]
    restores: list[RecordChange] = list(key_records(chosen, config))
    changes = deletes + restores + updates + restores
    with Clock() as clock:
        merges, splits = resolve_all(changes, args.batch_size, resolver)
    scratch = Resolver(config)
    resolve_all(key_records(labeled, config), args.batch_size, scratch)
    same = _partition(resolver.assignments()) == _partition(scratch.assignments())
    print(f"churn {len(changes)} changes: {clock.rate(len(changes))}")
    print(f"  events: {merges} merges, {splits} splits; equals from-scratch: {same}")


def _partition(assignments: Mapping[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for ref, golden in assignments.items():
        groups[golden].add(ref)
    return {frozenset(group) for group in groups.values()}


def report(
    labeled: Sequence[LabeledRecord],
    records: Sequence[SourceRecord],
    resolver: Resolver,
    scores: PairScores,
) -> None:
    keys = {r.ref: r.keys for r in records}
    print(
        f"pairs true {scores.true_pairs}  predicted {scores.predicted_pairs}  "
        f"correct {scores.correct_pairs}"
    )
    print(
        f"precision {scores.precision:.4f}  recall {scores.recall:.4f}  "
        f"F1 {scores.f1:.4f}  (recall ceiling {recall_ceiling(labeled, keys):.4f})"
    )
    with Clock() as clock:
        snapshot = pickle.dumps(resolver, protocol=pickle.HIGHEST_PROTOCOL)
    n = len(resolver)
    print(
        f"state pickle {len(snapshot) / n:.0f} bytes/record "
        f"({len(snapshot) / 1e6:.1f} MB in {clock.cpu:.2f}s CPU)"
    )
    missed, wrong = error_traits(labeled, resolver.assignments())
    print("missed pairs by trait:", dict(missed.most_common(10)))
    print("wrong pairs by trait: ", dict(wrong.most_common(10)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--churn", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3, help="timing runs")
    args = parser.parse_args()
    config = load_config(args.config) if args.config else DEFAULT_CONFIG

    labeled = generate(args.customers, seed=args.seed)
    keying, resolving = [], []  # best of --repeat runs: the machine may be shared
    for _ in range(args.repeat):
        clear_caches()
        with Clock() as clock:
            records = key_records(labeled, config)
        keying.append(clock)
        resolver = Resolver(config)
        with Clock() as clock:
            resolve_all(records, args.batch_size, resolver)
        resolving.append(clock)
    n, truths = len(records), len({r.truth for r in labeled})
    goldens = resolver.stats()["clusters"]
    print(f"records {n}  true customers {truths}  golden ids {goldens}")
    best_key = min(keying, key=lambda c: c.cpu)
    best_resolve = min(resolving, key=lambda c: c.cpu)
    print(f"key     {best_key.rate(n)}")
    print(f"resolve {best_resolve.rate(n)} (batches of {args.batch_size})")
    truth = {r.ref: r.truth for r in labeled}
    report(labeled, records, resolver, pairwise_scores(resolver.assignments(), truth))
    if args.churn > 0:
        churn(resolver, labeled, args)


if __name__ == "__main__":
    main()
