"""The default policy, rule by rule and verdict by verdict, and clear errors for bad policy files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rules_helpers import findings, transcript

import analyzer.rules as rules_pkg
from analyzer._errors import ConfigError
from analyzer.rules import DEFAULT_POLICY_PATH, ICP, decide, load_policy
from analyzer.taxonomy import VERDICTS

ALL_CORE = ["need_confirmed", "budget_confirmed", "decision_maker_engaged"]

# (case id, flags, signals, icp given, rule that must decide, verdict)
CASES = [
    (
        "ethics beats full qualification",
        [("ethics", "high")],
        [*ALL_CORE, "next_step_agreed"],
        False,
        "ethics-high",
        "walk_away",
    ),
    ("fit high", [("fit", "high")], ["budget_confirmed"], False, "fit-high", "walk_away"),
    ("tire kicker high", [("tire_kicker", "high"), ("budget", "low")], [], False, "tire-kicker-high", "walk_away"),
    ("relationship high", [("relationship", "high")], ALL_CORE, False, "relationship-high", "walk_away"),
    (
        "budget high with authority high",
        [("budget", "high"), ("authority", "high")],
        [],
        False,
        "budget-high-compounded",
        "walk_away",
    ),
    (
        "two highs without budget",
        [("authority", "high"), ("engagement", "high")],
        ["next_step_agreed"],
        False,
        "multiple-high",
        "walk_away",
    ),
    (
        "declined with a medium flag",
        [("budget", "medium")],
        ["need_confirmed", "prospect_declined"],
        False,
        "prospect-declined",
        "nurture",
    ),
    (
        "budget frozen, nothing else",
        [("budget", "high"), ("fit", "medium")],
        ["need_confirmed"],
        False,
        "budget-timing",
        "nurture",
    ),
    (
        # Guide V6: "take me off your list" is walk_away with an engagement flag, not nurture, even though
        # the prospect also said no.
        "refused any further contact",
        [("engagement", "high")],
        ["need_confirmed", "prospect_declined"],
        False,
        "engagement-high",
        "walk_away",
    ),
    (
        "no authority",
        [("authority", "high")],
        ["need_confirmed", "budget_confirmed"],
        False,
        "authority-high",
        "qualify_further",
    ),
    (
        "refused further contact after agreeing a step",
        [("engagement", "high")],
        ["next_step_agreed"],
        False,
        "engagement-high",
        "walk_away",
    ),
    # Guide V7: disengagement without a "no" is qualify_further, not nurture.
    (
        "disengaged, no decline",
        [("engagement", "medium")],
        ["need_confirmed"],
        False,
        "medium-flags",
        "qualify_further",
    ),
    ("qualified, low flags ignored", [("fit", "low"), ("relationship", "low")], ALL_CORE, False, "qualified", "pursue"),
    ("qualified, nothing else", [], ALL_CORE, False, "qualified", "pursue"),
    ("medium fit against an ICP", [("fit", "medium")], ALL_CORE, True, "fit-medium-outside-icp", "qualify_further"),
    ("medium flag blocks pursue", [("fit", "medium")], ALL_CORE, False, "medium-flags", "qualify_further"),
    (
        "medium ethics is for discovery",
        [("ethics", "medium")],
        ["need_confirmed"],
        False,
        "medium-flags",
        "qualify_further",
    ),
    ("nothing evidenced", [], ["need_confirmed"], False, "default-unqualified", "qualify_further"),
    ("empty findings", [], [], False, "default-unqualified", "qualify_further"),
]


@pytest.mark.parametrize(
    ("flags", "signals", "icp", "rule_id", "verdict"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_default_policy_table(flags, signals, icp, rule_id, verdict):
    report = decide(findings(flags, signals), transcript(), icp=ICP(industries=["logistics"]) if icp else None)
    assert (report.decided_by, report.verdict) == (rule_id, verdict)
    decided = [h for h in report.rule_trace if h.decided]
    assert len(decided) == 1
    assert decided[0].rule_id == rule_id
    assert report.rule_trace[0].decided  # the first rule that matched decides


def test_table_covers_every_rule_and_every_verdict():
    policy = load_policy()
    assert {c[4] for c in CASES} == {r.id for r in policy.rules}
    assert {c[5] for c in CASES} == set(VERDICTS)


def test_every_rule_has_id_reason_and_the_last_is_the_default():
    policy = load_policy()
    assert policy.id == "walkaway-default"
    assert policy.version
    for rule in policy.rules:
        assert rule.id and len(rule.reason) > 20
    ordered = policy.ordered_rules()
    assert ordered[-1].when.is_empty()
    assert not any(r.when.is_empty() for r in ordered[:-1])


def test_report_records_policy_and_trace_reasons():
    report = decide(findings([("ethics", "high"), ("budget", "high")], []), transcript())
    assert (report.policy_id, report.policy_version) == ("walkaway-default", "1.1.0")
    hit = report.rule_trace[0]
    assert hit.rule_id == "ethics-high" and hit.verdict == "walk_away"
    assert hit.matched == ["ethics:high"]
    assert "ethical" in hit.reason
    # Later rules that also matched are listed, but did not decide.
    assert [h.rule_id for h in report.rule_trace[1:3]] == ["budget-high-compounded", "multiple-high"]
    assert not any(h.decided for h in report.rule_trace[1:])


def test_report_carries_findings_metadata_and_transcript():
    f = findings([("budget", "medium")], ["need_confirmed"], failed_chunks=1)
    t = transcript()
    report = decide(f, t)
    assert report.source == "call.vtt"
    assert report.complete is False and report.chunk_failures == ["chunk 0: timed out"]
    assert (report.backend, report.model, report.prompt_version) == ("fake", "scripted", "p1")
    assert report.roles_assumed is True and [s.name for s in report.speakers] == ["Dana Reyes", "Sam Lee"]
    assert report.transcript == t
    assert decide(f, t, include_transcript=False).transcript is None
    assert decide(f).source == ""


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def _default_data() -> dict:
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


def test_rule_order_in_the_file_does_not_matter(tmp_path):
    data = _default_data()
    data["rules"] = list(reversed(data["rules"]))
    shuffled = load_policy(_write(tmp_path, data))
    f = findings([("budget", "high"), ("authority", "high")], ["prospect_declined"])
    assert decide(f, policy=shuffled).model_dump() == decide(f).model_dump()


def test_override_policy_changes_the_verdict(tmp_path):
    data = {
        "id": "strict",
        "version": "2",
        "rules": [
            {
                "id": "no-budget-no-deal",
                "priority": 1,
                "reason": "We never wait for budgets.",
                "when": {"any_flag": [{"category": "budget", "min_severity": "medium"}]},
                "verdict": "walk_away",
            },
            {"id": "else", "priority": 2, "reason": "Otherwise keep going.", "verdict": "pursue"},
        ],
    }
    policy = load_policy(_write(tmp_path, data))
    report = decide(findings([("budget", "medium")], []), policy=policy)
    assert (report.verdict, report.decided_by, report.policy_id, report.policy_version) == (
        "walk_away",
        "no-budget-no-deal",
        "strict",
        "2",
    )
    assert decide(findings([], []), policy=policy).verdict == "pursue"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["rules"][0].update(verdcit="walk_away"), "rule 'ethics-high', field 'verdcit': unknown field"),
        (
            lambda d: d["rules"][1]["when"]["any_flag"][0].update(category="fitt"),
            "rule 'fit-high', field 'when.any_flag.0.category'",
        ),
        (lambda d: d["rules"][0]["when"].update(any_flags=[]), "rule 'ethics-high', field 'when.any_flags'"),
        (lambda d: d["rules"][0].update(verdict="run_away"), "rule 'ethics-high', field 'verdict'"),
        (lambda d: d["rules"][2].pop("reason"), "rule 'tire-kicker-high', field 'reason': Field required"),
        (lambda d: d.update(verison="2"), "field 'verison': unknown field"),
        (lambda d: d["rules"][1].update(priority=10), "share priority 10"),
        (lambda d: d["rules"][1].update(id="ethics-high"), "rule id 'ethics-high' is used twice"),
        (lambda d: d["rules"].pop(), "must have no 'when' conditions"),
        (lambda d: d["rules"][3].pop("when"), "'relationship-high' has no conditions but is not the last"),
    ],
    ids=[
        "unknown-rule-field",
        "bad-category",
        "unknown-condition",
        "bad-verdict",
        "missing-reason",
        "unknown-top-level",
        "duplicate-priority",
        "duplicate-id",
        "no-default",
        "default-not-last",
    ],
)
def test_policy_typos_give_a_clear_error(tmp_path, mutate, expected):
    data = _default_data()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as exc:
        load_policy(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_policy_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("id: x\nversion: '1'\nrules:\n  - id: a\n    reason: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p\.yaml, line \d+: policy is not valid YAML"):
        load_policy(path)


def test_policy_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ConfigError, match="policy file not found"):
        load_policy(tmp_path / "nope.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_policy(path)


def test_all_exports_are_public_names():
    for name in rules_pkg.__all__:
        assert hasattr(rules_pkg, name)
    assert {"load_policy", "load_icp", "decide", "ICP", "Policy"} <= set(rules_pkg.__all__)
