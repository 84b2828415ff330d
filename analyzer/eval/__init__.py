"""Evals: run labelled suites through the analyzer, score them, report and compare runs.

suite.py    the YAML suite format (DESIGN.md "Eval cases") and its validation
records.py  what one analysis of one case predicted, cited and cost
metrics.py  per-repeat metrics and their spread across repeats (definitions in its docstring)
runner.py   concurrent, repeated runs with an injectable analyze function
results.py  results.json, the source of truth of a run
compare.py  metric deltas and per-case fixes/regressions between two runs
tune.py     cut-offs per question from a scored run;  folds.py  cross-validated (out-of-fold) tuning
render.py   rich tables and report.html;  junit.py  JUnit XML
"""

from __future__ import annotations

from analyzer.eval.compare import CaseChange, Comparison, MetricDelta, compare_runs
from analyzer.eval.folds import CrossValidation, cross_validate, make_folds
from analyzer.eval.junit import junit_xml, write_junit
from analyzer.eval.metrics import LabelScore, RepeatMetrics, Spread, compute_metrics, summarize
from analyzer.eval.records import CaseResult, CaseRun, CitedFlag, CitedSignal
from analyzer.eval.render import report_html, summary_tables
from analyzer.eval.results import RunMeta, RunResults, ThresholdResult, load_results
from analyzer.eval.runner import AnalyzeFn, check_thresholds, default_run_dir, run_suite
from analyzer.eval.suite import (
    THRESHOLD_DIRECTIONS,
    Case,
    Expected,
    Suite,
    Thresholds,
    load_suite,
    parse_suite,
)
from analyzer.eval.windowfit import cross_validate_windows, fit_windows

__all__ = [
    "THRESHOLD_DIRECTIONS",
    "AnalyzeFn",
    "Case",
    "CaseChange",
    "CaseResult",
    "CaseRun",
    "CitedFlag",
    "CitedSignal",
    "Comparison",
    "CrossValidation",
    "Expected",
    "LabelScore",
    "MetricDelta",
    "RepeatMetrics",
    "RunMeta",
    "RunResults",
    "Spread",
    "Suite",
    "ThresholdResult",
    "Thresholds",
    "check_thresholds",
    "compare_runs",
    "compute_metrics",
    "cross_validate",
    "cross_validate_windows",
    "default_run_dir",
    "fit_windows",
    "junit_xml",
    "load_results",
    "load_suite",
    "make_folds",
    "parse_suite",
    "report_html",
    "run_suite",
    "summarize",
    "summary_tables",
    "write_junit",
]
