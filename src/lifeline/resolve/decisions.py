"""What the resolver tells the rest of the flow: decisions and cluster events.

Both are small frozen values holding refs, golden ids, rule and key *names*
and scores - never field values - so they may be logged and published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

# Decision rules besides the link rules of lifeline.resolve.rules.
NO_MATCH = "no_match"
UNCHANGED = "unchanged"
DELETED = "deleted"

ClusterEventKind = Literal["merged", "split", "removed"]


class ResolutionDecision(NamedTuple):
    """Where one changed record belongs after a batch, and why.

    ``golden_id`` is the record's cluster at the end of the batch (``None``
    once deleted). ``rule`` is the strongest link that put it there
    (``explicit_link``, ``shared_link``, ``tax_id``, ``email``, ``fuzzy``),
    or ``no_match`` (linked to nothing), ``unchanged`` (an upsert with the
    same keys: nothing was re-evaluated) or ``deleted``. ``matched_with`` is
    the ref of the record that link was found with.
    """

    system: str
    id: str
    golden_id: str | None
    rule: str
    matched_keys: tuple[str, ...] = ()
    score: float = 0.0
    matched_with: str | None = None

    @property
    def ref(self) -> str:
        """``system:id``."""
        return f"{self.system}:{self.id}"


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    """A golden record changed shape; feeds CustomerMerged / CustomerSplit.

    * ``merged``: clusters ``absorbed`` were folded into ``survivor``; their
      ``moved`` members now carry the survivor's id and the absorbed ids are
      never issued again.
    * ``split``: the members in ``moved`` left ``survivor`` (which keeps its
      id) and form the new cluster ``created[0]``. One event per new part.
    * ``removed``: the last member of ``survivor`` was deleted.

    ``trigger`` is the ref whose change caused the event; ``reason`` is a
    readable account naming rules and refs only.
    """

    kind: ClusterEventKind
    survivor: str
    trigger: str
    reason: str
    absorbed: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    moved: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ResolutionBatch:
    """The outcome of one :meth:`Resolver.resolve` call.

    One decision per input change, in input order; events in the order they
    happened. A record moved by an event but not in the batch has no
    decision: its new golden id is in the event.
    """

    decisions: tuple[ResolutionDecision, ...]
    events: tuple[ClusterEvent, ...]
