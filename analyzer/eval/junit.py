"""JUnit XML of an eval run, so CI systems show each case (and each threshold) as a test.

One ``<testcase>`` per case and repeat (``name="<id>"``, or ``"<id> [repeat 2]"`` beyond the first): a
``<failure>`` when the verdict, the flags or the expected evidence differ from the labels, an ``<error>``
when the analysis raised. One ``<testcase classname="thresholds">`` per suite threshold.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from analyzer.eval.records import CaseResult, CaseRun
from analyzer.eval.results import RunResults

# Characters XML 1.0 cannot hold at all; error messages from backends occasionally carry them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def case_problems(case: CaseResult, run: CaseRun) -> list[str]:
    """Why a run does not match its labels, one short line per problem (empty: it matches)."""
    problems: list[str] = []
    exp = case.expected
    if run.verdict != exp.verdict:
        problems.append(f"verdict {run.verdict or 'none'} (expected {exp.verdict})")
    predicted, expected = run.predicted_flags, set(exp.flags)
    if missing := sorted(expected - predicted):
        problems.append(f"missed flags: {', '.join(missing)}")
    if extra := sorted(predicted - expected):
        problems.append(f"false flags: {', '.join(extra)}")
    if exp.signals is not None:
        ps, es = run.predicted_signals, set(exp.signals)
        if missing_s := sorted(es - ps):
            problems.append(f"missed signals: {', '.join(missing_s)}")
        if extra_s := sorted(ps - es):
            problems.append(f"false signals: {', '.join(extra_s)}")
    if run.evidence_missed:
        problems.append("evidence not cited: " + ", ".join(repr(e) for e in run.evidence_missed))
    if run.error is None and not run.complete:
        problems.append("incomplete analysis: " + "; ".join(run.chunk_failures or ["a chunk failed"]))
    return problems


def junit_xml(results: RunResults) -> str:
    """The run as a JUnit XML document (UTF-8 string, with declaration)."""
    suite_name = results.meta.suite
    root = ET.Element("testsuites", name=f"walkaway eval {suite_name}")
    ts = ET.SubElement(root, "testsuite", name=suite_name, timestamp=results.meta.timestamp)
    tests = failures = errors = 0
    total_time = 0.0
    for case in results.cases:
        for run in case.runs:
            tests += 1
            total_time += run.seconds
            name = _clean(case.id) if run.repeat == 0 else _clean(f"{case.id} [repeat {run.repeat + 1}]")
            tc = ET.SubElement(ts, "testcase", classname=f"{suite_name}.cases", name=name, time=f"{run.seconds:.3f}")
            if run.error is not None:
                errors += 1
                el = ET.SubElement(tc, "error", message=_clean(run.error), type=run.error_type or "Error")
                el.text = _clean(run.error)
                continue
            problems = case_problems(case, run)
            if problems:
                failures += 1
                el = ET.SubElement(tc, "failure", message=_clean(problems[0]), type="mismatch")
                el.text = _clean("\n".join(problems))
    for t in results.thresholds:
        tests += 1
        tc = ET.SubElement(ts, "testcase", classname=f"{suite_name}.thresholds", name=t.metric, time="0")
        if not t.passed:
            failures += 1
            op = ">=" if t.direction == "min" else "<="
            value = "not measured" if t.value is None else f"{t.value:.4f}"
            ET.SubElement(tc, "failure", message=f"{t.metric} = {value}, needs {op} {t.threshold}", type="threshold")
    for el in (ts, root):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", str(errors))
        el.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(results: RunResults, path: Path) -> None:
    """Write the JUnit XML file (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(results), encoding="utf-8")
