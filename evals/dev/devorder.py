"""The order the development-set scripts score calls in: writers interleaved (each writer's 1st call,
then each one's 2nd...), so a run stopped part-way is balanced across writers."""

from __future__ import annotations


def order(cases: list[dict]) -> list[dict]:
    """The suite's cases (``dev.yaml`` entries), writers interleaved."""
    by: dict[str, list[dict]] = {}
    for c in cases:
        by.setdefault(c["writer"], []).append(c)
    out = []
    for i in range(max(map(len, by.values()))):
        for w in sorted(by):
            if i < len(by[w]):
                out.append(by[w][i])
    return out
