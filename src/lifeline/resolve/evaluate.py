"""Pairwise precision, recall and F1 of a clustering against known truth.

A *pair* is two records in the same cluster. Precision is the share of
predicted pairs that are true pairs, recall the share of true pairs that
were predicted. Counted from the contingency table, never pair by pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PairScores:
    """Pair counts and the scores derived from them."""

    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        """Correct / predicted pairs (1.0 when nothing was predicted)."""
        return (
            self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0
        )

    @property
    def recall(self) -> float:
        """Correct / true pairs (1.0 when there is nothing to find)."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def pairwise_scores(
    predicted: Mapping[str, str], truth: Mapping[str, str]
) -> PairScores:
    """Score ``predicted`` (ref -> cluster) against ``truth`` (ref -> customer).

    Only refs present in both mappings count.
    """
    refs = predicted.keys() & truth.keys()
    by_predicted = Counter(predicted[ref] for ref in refs)
    by_truth = Counter(truth[ref] for ref in refs)
    by_both = Counter((predicted[ref], truth[ref]) for ref in refs)
    return PairScores(
        true_pairs=_pairs(by_truth),
        predicted_pairs=_pairs(by_predicted),
        correct_pairs=_pairs(by_both),
    )


def _pairs(sizes: Counter[str] | Counter[tuple[str, str]]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())
