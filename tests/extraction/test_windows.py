"""The windows strategy: planning, asking (fake chat model), combining, and refitting from records."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

import pytest

from analyzer.config import load_settings
from analyzer.eval.records import CaseResult, CaseRun
from analyzer.eval.suite import Expected
from analyzer.eval.windowfit import cross_validate_windows, fit_windows, redecide_windows
from analyzer.extraction.backends.chat import ChatResult, FakeChat, Message
from analyzer.extraction.combine import WindowTuning, behaviour_scores, best_windows, combine
from analyzer.extraction.findings import WindowRecord
from analyzer.extraction.windows import WindowExtractor, extract_windows, load_window_spec, plan_windows
from analyzer.pipeline import analyze_async
from tests.extraction.extraction_helpers import make_transcript

KICKBACK = "We would need a finder's fee paid to my own consultancy, nobody else needs to know."

CALL = make_transcript(
    [
        ("Dana", "seller", ["Thanks for joining.", "What made you look at us?"]),
        ("Sam", "prospect", ["Our scheduling is a mess and we lose two bookings a week."]),
        ("Dana", "seller", ["Understood.", "Pricing is twelve thousand a year.", "Does that work?"]),
        ("Sam", "prospect", ["Mm-hm."]),
        ("Dana", "seller", ["And how would you like to proceed?"]),
        ("Sam", "prospect", ["One thing first.", KICKBACK]),
    ]
)


def _answer(p: float) -> ChatResult:
    return ChatResult(text="Yes" if p >= 0.5 else "No", top_logprobs=[("Yes", math.log(p)), ("No", math.log(1 - p))])


def responder(rules: dict[str, float], located: int = 0) -> Any:
    """P(Yes) by (question substring, window substring) rules; locate answers ``located`` when set."""

    def answer(messages: Sequence[Message], schema: dict[str, Any] | None) -> ChatResult:
        user = messages[-1]["content"]
        window, _, tail = user.partition("</excerpt>")
        if "numbered sentence" in tail:
            return ChatResult(text=str(located), top_logprobs=[(str(located), math.log(0.9)), ("1", math.log(0.05))])
        for key, p in rules.items():
            question, _, where = key.partition("@")
            if question in tail and where in window:
                return _answer(p)
        return _answer(0.2)

    return answer


def test_windows_cover_substantive_prospect_speech_with_the_seller_lead_in() -> None:
    windows = plan_windows(CALL, budget_tokens=60)
    texts = [w.text for w in windows]
    # Each window ends on prospect speech and starts with the end of the seller turn before it.
    assert texts[0].startswith("Dana (seller): [1] Thanks for joining. [2] What made you look at us?")
    assert all(w.prospect for w in windows)
    said = {sid for w in windows for sid in w.prospect_ids}
    # "Mm-hm." alone is below min_words, but it rides along in a merged window or is dropped; the kickback
    # sentence and the need are always covered, and no seller sentence is ever a prospect id.
    assert {"t2.1", "t6.2"} <= said
    assert not any(sid.startswith(("t1.", "t3.", "t5.")) for sid in said)


def test_a_short_reply_alone_is_not_a_window_and_a_long_turn_is_split() -> None:
    short = make_transcript([("Dana", "seller", ["Shall we?"]), ("Sam", "prospect", ["Sure."])])
    assert plan_windows(short) == []
    long_turn = make_transcript(
        [("Sam", "prospect", [f"Sentence number {i} says something long enough." for i in range(60)])]
    )
    windows = plan_windows(long_turn, budget_tokens=120)
    assert len(windows) > 3
    assert all(w.tokens <= 120 for w in windows)
    assert [sid for w in windows for sid in w.prospect_ids] == [f"t1.{i}" for i in range(1, 61)]


def test_the_extractor_asks_every_behaviour_then_decoy_severity_locate_for_candidates() -> None:
    spec = load_window_spec()
    chat = FakeChat(responder=responder({"Does the prospect ask for money@finder": 0.9}, located=2))
    window = next(w for w in plan_windows(CALL) if "t6.2" in w.prospect_ids)
    record, cost = asyncio.run(WindowExtractor(chat, spec).run(window))
    assert len(record.scores) == len(spec.questions())
    assert record.scores["ethics.personal_payment"] == pytest.approx(0.9)
    # Only ethics passed the candidate floor: its decoy and location were asked, not its severity
    # (ethics is always high), and nothing else got follow-ups.
    assert set(record.decoy) == {"ethics"} and record.severity == {}
    assert set(record.located) == {"ethics"}
    n = window.prospect.index(2) if 2 in window.prospect else None
    assert record.located["ethics"] == ([window.numbers[2]] if n is not None else window.prospect_ids[:1])
    assert cost.calls == len(spec.questions()) + 2
    # The window comes first and the question last: every request shares the window as its prefix.
    firsts = {c["messages"][-1]["content"].split("</excerpt>")[0] for c in chat.calls}
    assert len(firsts) == 1


def _record(index: int, scores: dict[str, float], **extra: Any) -> WindowRecord:
    return WindowRecord(index=index, sentence_ids=[f"t{index * 2 + 2}.1"], scores=scores, **extra)


def test_combine_takes_the_best_window_vetoes_decoys_and_asks_the_model_for_severity() -> None:
    tuning = WindowTuning(calibrate=False, thresholds={"budget": 0.6, "ethics": 0.6}, severity_threshold=0.7)
    records = [
        _record(
            0,
            {"budget.no_money": 0.9, "ethics.personal_payment": 0.8},
            decoy={"ethics": 0.9, "budget": 0.1},
            severity={"budget": 0.4},
        ),
        _record(1, {"budget.no_money": 0.65, "ethics.personal_payment": 0.3}, severity={"budget": 0.95}),
    ]
    flags, signals, scores = combine(records, tuning, None, {"budget.no_money": "says there is no money"})
    assert [f.category for f in flags] == ["budget"]  # ethics only scored high where it was a decoy
    assert scores["ethics"] == 0.3
    assert signals == []  # no signal behaviour was scored
    budget = flags[0]
    assert budget.score == 0.9 and budget.severity == "medium"  # the best window's own severity answer
    assert budget.rationale == "says there is no money"
    # A stricter veto-free reading would flag ethics, and ethics is always high.
    flags, _, _ = combine(records, tuning.model_copy(update={"decoy_threshold": 1.01}), None, {})
    assert {f.category: f.severity for f in flags}["ethics"] == "high"


def test_calibration_scores_against_the_windows_own_yes_bias() -> None:
    rec = _record(0, {"a.x": 0.8, "b.y": 0.6, "c.z": 0.1})
    calibrated = behaviour_scores(rec, WindowTuning(calibrate=True, calibration_floor=0.15))
    assert calibrated["a.x"] == pytest.approx(0.8 - 0.5 + 0.5)
    assert calibrated["c.z"] == 0.1  # below the floor: a clear No stays a No
    assert behaviour_scores(rec, WindowTuning(calibrate=False)) == rec.scores


def test_extract_windows_grounds_evidence_in_the_transcript_and_the_pipeline_runs_it() -> None:
    spec = load_window_spec().model_copy(update={"tuning": WindowTuning(calibrate=False, default_threshold=0.6)})
    rules = {"Does the prospect ask for money@finder": 0.9, "real problem@scheduling": 0.85}
    chat = FakeChat(responder=responder(rules, located=3))
    findings = asyncio.run(extract_windows(CALL, chat, spec=spec, budget_tokens=260))
    assert findings.strategy == "windows" and findings.windows
    ethics = next(f for f in findings.flags if f.category == "ethics")
    assert ethics.severity == "high"
    assert all(e.role == "prospect" for e in ethics.evidence)
    assert ethics.rationale == "asked for money, a fee or a gift for themselves"
    assert [s.signal for s in findings.signals] == ["need_confirmed"]
    # Through the pipeline with the strategy setting: the verdict rules see the ethics flag.
    settings = load_settings(strategy="windows", cache=False)
    report = asyncio.run(
        analyze_async(
            transcript=CALL,
            settings=settings,
            backend="fake",
            chat=FakeChat(responder=responder({"Does the prospect ask for money@finder": 0.95}, located=3)),
            use_cache=False,
        )
    )
    assert report.strategy == "windows" and report.verdict == "walk_away"
    assert report.windows


def _case(i: int, writer: str, ethics: float, budget: float, labels: dict[str, str], verdict: str) -> CaseResult:
    rec = _record(0, {"ethics.personal_payment": ethics, "budget.no_money": budget}, severity={"budget": budget})
    return CaseResult(
        id=f"c{i}",
        writer=writer,
        transcript="missing.txt",
        expected=Expected(verdict=verdict, flags=list(labels), severities=labels),  # type: ignore[arg-type]
        runs=[CaseRun(repeat=0, verdict="pursue", windows=[rec], strategy="windows")],
    )


def test_fitting_learns_cut_offs_and_severity_from_labels_and_applies_them_out_of_fold() -> None:
    cases = []
    for i in range(20):
        w = f"w{i % 5}"
        if i % 4 == 0:
            cases.append(_case(i, w, 0.8 + i / 200, 0.2, {"ethics": "high"}, "walk_away"))
        elif i % 4 == 1:
            cases.append(_case(i, w, 0.4, 0.75 + i / 400, {"budget": "high"}, "walk_away"))
        else:
            cases.append(_case(i, w, 0.3 + i / 400, 0.3, {}, "qualify_further"))
    tuning = fit_windows(cases, WindowTuning())
    assert 0.45 < tuning.thresholds["ethics"] <= 0.8
    assert 0.3 < tuning.thresholds["budget"] <= 0.75
    assert tuning.severity_threshold <= 0.75  # the budget flags are labelled high and answered ~0.75+
    run = redecide_windows(cases[0], tuning, {}, None)
    assert [f.category for f in run.flags] == ["ethics"] and run.verdict == "walk_away"
    cv = cross_validate_windows(cases, WindowTuning(), {}, {}, k=5)
    # Held-out writers get the cut-offs learnt from the others: every flag is found, no extra one raised,
    # and every ethics flag is found.
    assert cv.out_of_fold.macro_f1 == 1.0
    assert cv.out_of_fold.ethics_recall == 1.0


def test_the_logistic_combiner_weighs_an_informative_behaviour_over_a_noisy_one() -> None:
    pytest.importorskip("sklearn")
    from analyzer.eval.windowfit import fit_logistic
    from analyzer.extraction.combine import call_scores

    cases = []
    for i in range(24):
        present = i % 3 == 0
        informative = 0.8 if present else 0.3
        noisy = 0.9 if i % 2 == 0 else 0.2  # unrelated to the label
        rec = _record(0, {"ethics.personal_payment": informative + i / 1000, "ethics.falsify_records": noisy})
        cases.append(
            CaseResult(
                id=f"c{i}",
                writer=f"w{i % 5}",
                transcript="missing.txt",
                expected=Expected(verdict="walk_away" if present else "pursue", flags=["ethics"] if present else []),
                runs=[CaseRun(repeat=0, verdict="pursue", windows=[rec], strategy="windows")],
            )
        )
    tuning = WindowTuning(calibrate=False, combiner="logistic", decoy_threshold=1.01)
    weights = fit_logistic(cases, tuning)["ethics"]
    assert weights["b:personal_payment"] > 2 * abs(weights["b:falsify_records"])
    tuning.weights = {"ethics": weights}
    scores = [call_scores(c.runs[0].windows, tuning)["ethics"].score for c in cases]
    positives = [s for s, c in zip(scores, cases, strict=True) if c.expected.flags]
    negatives = [s for s, c in zip(scores, cases, strict=True) if not c.expected.flags]
    assert min(positives) > max(negatives)  # the noisy behaviour's 0.9 no longer decides
    fitted = fit_windows(cases, tuning.model_copy(update={"weights": {}}), calibrate=(False,))
    assert "ethics" in fitted.weights and fitted.combiner == "logistic"


def test_progress_is_logged_per_window(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    spec = load_window_spec()
    with caplog.at_level(logging.INFO, logger="walkaway.progress"):
        findings = asyncio.run(extract_windows(CALL, FakeChat(), spec=spec, budget_tokens=260))
    lines = [r.getMessage() for r in caplog.records if r.name == "walkaway.progress"]
    assert lines and lines[-1].startswith(f"window {findings.chunks_total} of {findings.chunks_total}:")


def test_skipped_and_screened_behaviours_are_not_asked() -> None:
    spec = load_window_spec()
    spec = spec.model_copy(update={"tuning": WindowTuning(skip=["ethics.harmful_use"], screen=["budget"])})
    window = plan_windows(CALL)[0]
    chat = FakeChat()
    record, _ = asyncio.run(WindowExtractor(chat, spec).run(window, cue_hits=set()))
    assert "ethics.harmful_use" not in record.scores
    assert not any(k.startswith("budget.") for k in record.scores)  # screened, and no budget cue here
    record, _ = asyncio.run(WindowExtractor(FakeChat(), spec).run(window, cue_hits={"budget"}))
    assert any(k.startswith("budget.") for k in record.scores)


def test_an_answer_without_logprobs_stops_the_strategy_instead_of_scoring_no() -> None:
    from analyzer.extraction.backends.chat import LogprobsMissing

    spec = load_window_spec()
    chat = FakeChat(responder=lambda messages, schema: ChatResult(text="Maybe"))
    # Raised out of the window loop (not recorded as one failed window): no window can be scored.
    with pytest.raises(LogprobsMissing, match="without log-probabilities"):
        asyncio.run(extract_windows(CALL, chat, spec=spec, budget_tokens=260))
    assert len(chat.calls) == 1


def test_eval_tune_refits_a_windows_run_out_of_fold_and_writes_a_tuning_the_pipeline_reads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml
    from click.testing import CliRunner

    from analyzer.cli import cli
    from analyzer.eval.results import RunMeta, RunResults

    cases = []
    for i in range(10):
        present = i % 2 == 0
        rec = _record(0, {"ethics.personal_payment": 0.9 if present else 0.3, "budget.no_money": 0.2})
        cases.append(
            CaseResult(
                id=f"c{i}",
                writer=f"w{i % 5}",
                transcript=str(tmp_path / "gone.txt"),
                expected=Expected(verdict="walk_away" if present else "pursue", flags=["ethics"] if present else []),
                runs=[CaseRun(repeat=0, verdict="pursue", windows=[rec], strategy="windows")],
            )
        )
    run = tmp_path / "run"
    run.mkdir()
    RunResults(meta=RunMeta(suite="t", backend="local", timestamp="2026-11-30T00:00:00Z"), cases=cases).write(
        run / "results.json"
    )
    out = tmp_path / "windows-thresholds.yaml"
    result = CliRunner().invoke(cli, ["eval", "tune", str(run), "--folds", "5", "--write", str(out)])
    assert result.exit_code == 0, result.output
    assert "out-of-fold" in result.output.lower()
    tuning = WindowTuning.model_validate(yaml.safe_load(out.read_text()))
    assert 0.3 < tuning.cutoff("ethics") <= 0.9


def test_offsets_centre_a_behaviour_the_model_leans_yes_to_everywhere() -> None:
    from analyzer.eval.windowfit import behaviour_medians

    noisy = [_record(i, {"ethics.falsify_records": 0.7, "ethics.personal_payment": 0.2}) for i in range(5)]
    hit = _record(9, {"ethics.falsify_records": 0.7, "ethics.personal_payment": 0.6})
    case = CaseResult(
        id="c", transcript="x", expected=Expected(verdict="pursue"), runs=[CaseRun(repeat=0, windows=[*noisy, hit])]
    )
    offsets = behaviour_medians([case])
    assert offsets == {"ethics.falsify_records": 0.7, "ethics.personal_payment": 0.2}
    raw = best_windows([*noisy, hit], WindowTuning(calibrate=False, decoy_threshold=1.01))
    assert raw["ethics"].behaviour == "falsify_records"  # the ever-present 0.7 outranks the real 0.6
    best = best_windows([*noisy, hit], WindowTuning(calibrate=False, decoy_threshold=1.01, offsets=offsets))
    assert best["ethics"].window == 9 and best["ethics"].behaviour == "personal_payment"
    assert best["ethics"].score == pytest.approx(0.6 - 0.2 + 0.5)
