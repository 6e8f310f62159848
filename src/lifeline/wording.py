"""Words for counts in the command's output."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless ``count`` is 1 (``2 tasks``).

    ``plural`` is the plural when it is not ``noun`` + ``s`` (``entries``).
    """
    if count == 1:
        return f"1 {noun}"
    return f"{count} {plural or noun + 's'}"
