"""The eval package's public surface is exactly what it re-exports."""

from __future__ import annotations

import analyzer.eval as ev


def test_all_matches_exports() -> None:
    public = {n for n in dir(ev) if not n.startswith("_") and n not in {"annotations"}}
    modules = {
        "compare",
        "junit",
        "metrics",
        "records",
        "render",
        "results",
        "runner",
        "suite",
        "tune",
        "folds",
        "windowfit",
    }
    assert set(ev.__all__) == public - modules
    assert sorted(ev.__all__) == sorted(set(ev.__all__))
