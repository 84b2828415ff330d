"""Accounts: grouping and date order, the per-call behaviours, the cross-call patterns, the account policy
(one case per rule), account suites in `walkaway eval`, and a re-run answered from the response cache."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer._errors import ConfigError
from analyzer.accounts.analyze import AccountCall, analyze_account
from analyzer.accounts.model import AccountReport, CallSummary
from analyzer.accounts.patterns import detect_patterns, indicators
from analyzer.accounts.policy import decide_account, load_account_policy
from analyzer.batch.inputs import ManifestError, expand_inputs
from analyzer.cli import cli
from analyzer.config import load_settings
from analyzer.extraction.behaviours import keyword_behaviours, load_account_spec
from analyzer.extraction.findings import BehaviourHit, Evidence
from analyzer.testing.openai_stub import OpenAIStub
from analyzer.transcript import parse_bytes

REPO = Path(__file__).resolve().parents[2]
CALL = REPO / "fixtures" / "plain" / "discovery-budget-frozen.txt"
POLICY = load_account_policy()


def call(label: str, verdict: str = "qualify_further", **kw: object) -> CallSummary:
    return CallSummary(label=label, path=label, verdict=verdict, prospect_words=kw.pop("words", 300), **kw)  # type: ignore[arg-type]


def hit(name: str, quote: str = "a quote") -> BehaviourHit:
    ev = Evidence(sentence_id="t1.1", turn_id="t1", speaker="Pat", role="prospect", quote=quote)
    return BehaviourHit(behaviour=name, evidence=[ev])


# --------------------------------------------------------------- patterns


def test_a_cycle_needs_three_indicators_over_two_calls() -> None:
    calls = [
        call("c1", behaviours=[hit("volume_dangled", "a million units next year")]),
        call("c2", behaviours=[hit("specs_bid_out"), hit("really_close", "it was really, really close")]),
    ]
    (found,) = detect_patterns(POLICY, calls)
    assert found.pattern == "tire_kicker_cycle" and found.calls == 2
    assert set(found.indicators) == {"volume_dangled", "specs_bid_out", "really_close"}
    assert [e.call for e in found.evidence] == ["c1", "c2", "c2"]  # in call order, with the quotes
    assert found.evidence[0].quote == "a million units next year"
    # Two indicators, or three in one call, are not the pattern.
    assert detect_patterns(POLICY, calls[1:]) == []
    one_call = [call("c1", behaviours=[hit("volume_dangled"), hit("specs_bid_out"), hit("really_close")])]
    assert detect_patterns(POLICY, one_call) == []


def test_a_call_level_tire_kicker_flag_counts_as_an_indicator() -> None:
    calls = [
        call("c1", flags={"tire_kicker": "medium"}, first_flag_quote="we'll use it to compare"),
        call("c2", behaviours=[hit("pity_order"), hit("next_project")]),
    ]
    (found,) = detect_patterns(POLICY, calls)
    assert "tire_kicker_flag" in found.indicators


def test_stalling_indicators_are_computed_across_calls() -> None:
    calls = [
        call(
            "c1",
            behaviours=[hit("dm_promised", "I'll bring our CFO next time"), hit("step_not_kept")],
            open_areas=["budget"],
            words=900,
        ),
        call(
            "c2", behaviours=[hit("step_not_kept", "I haven't sent the volumes yet")], open_areas=["budget"], words=400
        ),
        call("c3", open_areas=["budget"], words=300),
    ]
    found = indicators(calls)
    # A step not kept cannot show in the first call (nothing was agreed before it).
    assert [e.call for e in found["step_not_kept"]] == ["c2"]
    assert [e.call for e in found["dm_never_present"]] == ["c1", "c2", "c3"]
    assert [e.call for e in found["same_gap_repeated"]] == ["c1", "c2", "c3"]
    assert [e.call for e in found["engagement_falling"]] == ["c2", "c3"]
    (stall,) = detect_patterns(POLICY, calls)
    assert stall.pattern == "stalling" and len(stall.indicators) == 4
    # The decision maker did show up later: not "never present".
    calls[2] = call("c3", signals=["decision_maker_engaged"], words=300)
    assert "dm_never_present" not in indicators(calls)


# --------------------------------------------------------------- the account policy, one case per rule


@pytest.mark.parametrize(
    ("calls", "patterns", "rule", "verdict"),
    [
        (
            [call("c1", "pursue"), call("c2", "walk_away", flags={"ethics": "high"})],
            [],
            "disqualified-in-a-call",
            "walk_away",
        ),
        ([call("c1"), call("c2", "pursue")], ["tire_kicker_cycle"], "tire-kicker-cycle", "walk_away"),
        ([call(f"c{i}") for i in range(4)], ["stalling"], "long-stall", "walk_away"),
        ([call("c1"), call("c2", "pursue")], ["stalling"], "stall", "qualify_further"),
        ([call("c1", "nurture"), call("c2", "pursue")], [], "latest-call", "pursue"),
        ([call("c1", "pursue"), call("c2", "nurture")], [], "latest-call", "nurture"),
    ],
)
def test_every_account_rule_decides_its_case(
    calls: list[CallSummary], patterns: list[str], rule: str, verdict: str
) -> None:
    from analyzer.accounts.model import PatternFinding

    found = [PatternFinding(pattern=p, indicators=[], calls=2) for p in patterns]
    got, decided_by, trace = decide_account(POLICY, calls, found)
    assert (decided_by, got) == (rule, verdict)
    assert trace[-1].decided and trace[-1].rule_id == rule and trace[-1].reason


def test_every_shipped_rule_is_covered_by_the_table() -> None:
    assert {r.id for r in POLICY.rules} == {
        "disqualified-in-a-call",
        "tire-kicker-cycle",
        "long-stall",
        "stall",
        "latest-call",
    }


def test_a_bad_account_policy_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text(
        "id: x\nversion: '1'\npatterns: {}\nrules:\n  - {id: a, priority: 1, reason: r, "
        "when: {patterns: [nope]}, verdict: walk_away}\n"
        "  - {id: b, priority: 2, reason: r, verdict: latest}\n"
    )
    with pytest.raises(ConfigError, match=r"undefined pattern.*nope"):
        load_account_policy(bad)
    bad.write_text("id: x\nversion: '1'\npatterns: {}\nrules:\n  - {id: a, priority: 1, reason: r, verdict: maybe}\n")
    with pytest.raises(ConfigError, match=r"p.yaml: rules\.0\.verdict"):
        load_account_policy(bad)


# --------------------------------------------------------------- behaviours


def test_keyword_behaviours_match_prospect_sentences_only() -> None:
    text = (
        b"Sam Seller: If you can sharpen your pencil now there is huge volume next year.\n"
        b"Pat Buyer: Honestly it was really, really close. We shared your quote with two other suppliers.\n"
        b"Pat Buyer: I can throw you a small order to start.\n"
    )
    t = parse_bytes(text, filename="c.txt", seller=["Sam Seller"])
    found = {h.behaviour: h for h in keyword_behaviours(t)}
    assert {"really_close", "specs_bid_out", "pity_order"} <= set(found)
    assert "volume_dangled" not in found  # said by the seller
    assert found["really_close"].evidence[0].speaker == "Pat Buyer"


def test_the_account_questions_load() -> None:
    spec = load_account_spec()
    assert {"volume_dangled", "step_not_kept", "dm_promised"} <= set(spec.behaviours)
    assert all(q.endswith("?") for q in spec.behaviours.values())


# --------------------------------------------------------------- grouping, dates, CLI


def _copies(tmp_path: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        p = tmp_path / f"call-{i}.txt"
        p.write_bytes(CALL.read_bytes())
        paths.append(p)
    return paths


def test_cli_groups_a_manifest_by_account_in_date_order(tmp_path: Path) -> None:
    _copies(tmp_path, 3)
    manifest = tmp_path / "calls.csv"
    manifest.write_text(
        "path,seller,account_id,date\n"
        "call-0.txt,Dana Reyes,ACME,2026-03-02\n"
        "call-1.txt,Dana Reyes,ACME,2026-01-12\n"
        "call-2.txt,Dana Reyes,GLOBEX,2026-02-01\n"
    )
    res = CliRunner().invoke(cli, ["account", str(manifest), "--backend", "keywords", "--format", "json"])
    assert res.exit_code == 0, res.output
    reports = json.loads(res.output)
    assert [r["account"] for r in reports] == ["ACME", "GLOBEX"]
    assert [c["label"] for c in reports[0]["calls"]] == ["call-1.txt", "call-0.txt"]  # by date, not by row
    assert [c["date"] for c in reports[0]["calls"]] == ["2026-01-12", "2026-03-02"]
    assert reports[0]["decided_by"] and reports[0]["message"]["subject"].startswith("ACME")


def test_cli_dates_per_file_and_the_mistakes_it_names(tmp_path: Path) -> None:
    a, b = _copies(tmp_path, 2)
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "account",
            str(a),
            str(b),
            "--account",
            "X",
            "--date",
            "2026-05-01",
            "--date",
            "2026-04-01",
            "--backend",
            "keywords",
            "--seller",
            "Dana Reyes",
            "--format",
            "md",
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.output.index("call-1.txt") < res.output.index("call-0.txt")
    res = runner.invoke(
        cli, ["account", str(a), str(b), "--account", "X", "--date", "2026-05-01", "--backend", "keywords"]
    )
    assert res.exit_code == 2 and "--date was given 1 time(s) for 2 call(s)" in res.output
    res = runner.invoke(cli, ["account", str(a), "--backend", "keywords"])
    assert res.exit_code == 2 and "no account for this call" in res.output
    res = runner.invoke(cli, ["account", str(a), "--account", "X", "--date", "May 1st", "--backend", "keywords"])
    assert res.exit_code == 2 and "is not a date" in res.output


def test_a_bad_manifest_date_names_the_line(tmp_path: Path) -> None:
    _copies(tmp_path, 1)
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,account_id,date\ncall-0.txt,A,13/01/2026\n")
    with pytest.raises(ManifestError, match=r"m.csv, line 2: date '13/01/2026' is not a date"):
        expand_inputs([str(manifest)])


async def test_undated_calls_follow_the_dated_ones_in_input_order(tmp_path: Path) -> None:
    a, b, c = _copies(tmp_path, 3)
    calls = [
        AccountCall(path=a, account="X", seller=("Dana Reyes",)),
        AccountCall(path=b, account="X", date=dt.date(2026, 2, 1), seller=("Dana Reyes",)),
        AccountCall(path=c, account="X", seller=("Dana Reyes",)),
    ]
    report = await analyze_account(calls, settings=load_settings(), backend="keywords")
    assert [x.label for x in report.calls] == ["call-1.txt", "call-0.txt", "call-2.txt"]
    assert report.undated


async def test_an_account_re_run_is_answered_from_the_cache(tmp_path: Path) -> None:
    calls = [
        AccountCall(path=p, account="X", date=dt.date(2026, 1, i + 1), seller=("Dana Reyes",))
        for i, p in enumerate(_copies(tmp_path, 2))
    ]
    with OpenAIStub() as stub:
        settings = load_settings(backend="openai", base_url=stub.url, model="m", strategy="chunks", api_key="k")
        first = await analyze_account(calls, settings=settings, backend="openai")
        asked = stub.requests
        again = await analyze_account(calls, settings=settings, backend="openai")
        assert stub.requests == asked > 0  # no new model call: the calls and behaviours came from the cache
    assert again.model_dump() == first.model_dump()


# --------------------------------------------------------------- account suites in `walkaway eval`


def test_eval_scores_an_account_suite(tmp_path: Path) -> None:
    paths = _copies(tmp_path, 3)
    suite = tmp_path / "accounts.yaml"
    suite.write_text(
        "name: accounts\naccounts:\n"
        f"  - id: acme\n    calls:\n      - {{transcript: {paths[0].name}, date: 2026-01-02, seller: [Dana Reyes], "
        "asked: [need, budget]}\n"
        f"      - {{transcript: {paths[1].name}, date: 2026-02-02, seller: [Dana Reyes]}}\n"
        "    expected: {verdict: nurture, patterns: []}\n"
        f"  - id: globex\n    calls:\n      - {{transcript: {paths[2].name}, seller: [Dana Reyes]}}\n"
        "    expected: {verdict: walk_away, patterns: [stalling], evidence: ['budget is frozen']}\n"
    )
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["eval", str(suite), "--backend", "keywords", "--out", str(out)])
    data = json.loads((out / "results.json").read_text())
    assert data["metrics"]["accounts"] == 2
    assert data["metrics"]["verdict_accuracy"] == 0.5  # acme right (nurture), globex wrong
    assert data["metrics"]["pattern_recall"]["stalling"] == 0.0
    assert data["metrics"]["confusion"]["walk_away"]["nurture"] == 1
    assert "verdict accuracy 0.500" in res.output
    suite.write_text(suite.read_text().replace("patterns: [stalling]", "patterns: [stalled]"))
    res = CliRunner().invoke(cli, ["eval", str(suite), "--backend", "keywords", "--out", str(out)])
    assert res.exit_code == 2 and "unknown pattern(s) stalled" in res.output


# --------------------------------------------------------------- pipeline review


def _report(account: str, calls: list[CallSummary]) -> AccountReport:
    patterns = detect_patterns(POLICY, calls)
    verdict, rule, trace = decide_account(POLICY, calls, patterns)
    return AccountReport(
        account=account, verdict=verdict, decided_by=rule, rule_trace=trace, calls=calls, patterns=patterns
    )


def test_review_puts_the_accounts_still_worked_after_disqualification_first() -> None:
    from analyzer.accounts.review import render_review, review

    cycling = _report(
        "cycler",
        [
            call("k1", behaviours=[hit("volume_dangled")], date=dt.date(2026, 1, 5), minutes=30.0),
            call(
                "k2",
                behaviours=[hit("specs_bid_out", "we sent your drawings to two shops"), hit("really_close")],
                date=dt.date(2026, 2, 5),
                minutes=20.0,
            ),
            call("k3", date=dt.date(2026, 3, 5)),
            call("k4", date=dt.date(2026, 4, 5)),
        ],
    )
    ethics = _report("briber", [call("e1", "walk_away", flags={"ethics": "high"}, first_flag_quote="a fee to my LLC")])
    healthy = _report("healthy", [call("h1", "pursue", date=dt.date(2026, 4, 1))])
    rv = review(
        [healthy, ethics, cycling],
        POLICY,
        reps={"cycler": "Ana", "briber": "Ana", "healthy": "Bo"},
        as_of=dt.date(2026, 4, 30),
    )
    first = rv.accounts[0]
    assert (first.account, first.fire, first.disqualified_at, first.calls_after_disqualified) == ("cycler", True, 2, 2)
    assert first.evidence.startswith("tire_kicker_cycle: ") and first.evidence_call == "k1"
    assert first.minutes == 50.0 and first.days_since_first_call == 115
    assert [a.account for a in rv.accounts] == ["cycler", "briber", "healthy"]
    assert not rv.accounts[1].fire and rv.accounts[1].disqualified_at == 1  # disqualified on its only call
    ana = next(r for r in rv.reps if r.rep == "Ana")
    assert (ana.accounts, ana.disqualified, ana.calls_after_disqualified, ana.median_calls_to_disqualify) == (
        2,
        2,
        2,
        1.5,
    )
    text = render_review(rv, "md")
    assert "FIRE cycler" in text and "| Ana | 2 | 2 | 2 | 1.5 |" in text


def test_cli_pipeline_reviews_a_manifest(tmp_path: Path) -> None:
    _copies(tmp_path, 2)
    manifest = tmp_path / "calls.csv"
    manifest.write_text(
        "path,seller,account_id,date\ncall-0.txt,Dana Reyes,ACME,2026-03-02\ncall-1.txt,Dana Reyes,ACME,2026-01-12\n"
    )
    res = CliRunner().invoke(
        cli, ["pipeline", str(manifest), "--backend", "keywords", "--format", "json", "--as-of", "2026-03-12"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    (row,) = data["accounts"]
    assert (row["account"], row["rep"], row["calls"], row["days_since_first_call"]) == ("ACME", "Dana Reyes", 2, 59)
    assert data["reps"][0]["rep"] == "Dana Reyes"


def test_account_reads_a_batch_output_folder_without_analyzing_again(tmp_path: Path) -> None:
    _copies(tmp_path, 2)
    manifest = tmp_path / "calls.csv"
    manifest.write_text(
        "path,seller,account_id,date\ncall-0.txt,Dana Reyes,ACME,2026-03-02\ncall-1.txt,Dana Reyes,ACME,2026-01-12\n"
    )
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(cli, ["batch", str(manifest), "--out", str(out), "--backend", "keywords", "--no-progress"])
    assert res.exit_code == 0, res.output
    stored = json.loads(next((out / "reports").glob("*.json")).read_text())
    assert stored["behaviours"] is not None  # a call of an account was asked its behaviours in the batch
    direct = json.loads(
        runner.invoke(cli, ["account", str(manifest), "--backend", "keywords", "--format", "json"]).output
    )
    for p in tmp_path.glob("call-*.txt"):
        p.unlink()  # the stored reports carry their transcripts: nothing is read or analyzed again
    res = runner.invoke(cli, ["account", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    (from_batch,) = json.loads(res.output)
    assert [c["label"] for c in from_batch["calls"]] == ["call-1.txt", "call-0.txt"]

    def same(calls: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in c.items() if k != "path"} for c in calls]  # the batch parsed bytes, not a path

    assert from_batch["verdict"] == direct[0]["verdict"] and same(from_batch["calls"]) == same(direct[0]["calls"])
    res = runner.invoke(cli, ["account", str(out), "--date", "2026-01-01"])
    assert res.exit_code == 2 and "batch output folder has its own dates" in res.output
    # The pipeline review names the rep from the stored reports' seller speakers: the ledger has no hints.
    res = runner.invoke(cli, ["pipeline", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["accounts"][0]["rep"] == "Dana Reyes"
