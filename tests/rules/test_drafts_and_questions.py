"""Message drafts, open questions, 'what would change' and the ideal-customer profile."""

from __future__ import annotations

import pytest
from rules_helpers import QUOTES, findings, transcript

from analyzer._errors import ConfigError
from analyzer.extraction.findings import Findings, SignalFinding
from analyzer.rules import ICP, CompanySize, decide, load_icp
from analyzer.rules._messages import follow_up_days

REPO_ICP = "fixtures/icp/example-icp.yaml"
CORE = ["need_confirmed", "budget_confirmed", "decision_maker_engaged"]
ACCUSING_WORDS = ("fee", "finder", "bribe", "kickback", "ethic", "illegal", "compliance", "suspicious", "improper")


@pytest.mark.parametrize(
    "flags",
    [
        [("ethics", "high")],
        [("ethics", "high"), ("budget", "high"), ("fit", "high")],
        [("ethics", "high"), ("fit", "medium")],
    ],
)
def test_ethics_decline_is_firm_neutral_and_repeats_no_accusation(flags):
    report = decide(findings(flags, ["need_confirmed"]), transcript())
    m = report.message
    assert report.verdict == "walk_away" and m is not None and m.kind == "decline"
    text = (m.subject + "\n" + m.body).lower()
    for word in ACCUSING_WORDS:
        assert word not in text
    for quote in QUOTES.values():  # quotes nothing at all, not even the budget or fit evidence
        assert quote.lower().rstrip(".") not in text
    assert "not to move forward" in text
    assert m.body.startswith("Hi Sam,") and m.body.rstrip().endswith("Dana Reyes")


def test_fit_decline_is_grounded_in_the_prospects_words_and_leaves_the_door_open():
    icp = load_icp(REPO_ICP)
    report = decide(findings([("fit", "high")], ["need_confirmed"]), transcript(), icp=icp)
    body = report.message.body
    assert 'You mentioned that "We really need on-prem and offline, nothing in the cloud"' in body
    assert "right fit" in body and "pick this up again" in body
    assert "We do our best work with logistics, wholesale distribution and field services companies" in body


@pytest.mark.parametrize(
    ("flags", "phrase"),
    [
        ([("budget", "high"), ("authority", "high")], "If the budget picture changes"),
        ([("tire_kicker", "high")], "specification and pricing breakdown"),
        ([("relationship", "high")], "the door stays open"),
        ([("authority", "high"), ("engagement", "high")], "people who own this decision"),
    ],
)
def test_each_walk_away_reason_has_its_own_door_open_decline(flags, phrase):
    report = decide(findings(flags, []), transcript())
    assert report.verdict == "walk_away" and report.message.kind == "decline"
    assert phrase in report.message.body
    # A decline never quotes the toxic or tire-kicking evidence back at the prospect.
    assert QUOTES["relationship"] not in report.message.body
    assert QUOTES["tire_kicker"] not in report.message.body


def test_declined_prospect_gets_a_follow_up_plan_with_timing_from_the_call():
    report = decide(findings([], ["need_confirmed", "prospect_declined"]), transcript())
    m = report.message
    assert report.verdict == "nurture" and m.kind == "follow_up"
    assert m.follow_up_days == 90  # "come back to us next quarter"
    assert m.follow_up_topic and "case study" in m.follow_up_topic
    assert "three months" in m.body


def test_budget_timing_follow_up_uses_the_fiscal_year():
    report = decide(findings([("budget", "high")], []), transcript())
    assert report.verdict == "nurture"
    assert report.message.follow_up_days == 180
    assert "budget" in report.message.follow_up_topic


@pytest.mark.parametrize(
    ("quote", "days"),
    [
        ("Talk to me in six months.", 180),
        ("Maybe in 2 months", 60),
        ("next quarter works", 90),
        ("after Q4 closes", 90),
        ("circle back next month", 30),
        ("in 24 months", 365),
        ("no timing given", 77),
    ],
)
def test_follow_up_days_reads_the_timing_the_prospect_named(quote, days):
    assert follow_up_days([quote], 77) == days


def test_pursue_draft_restates_the_agreed_next_step():
    report = decide(findings([], [*CORE, "next_step_agreed"]), transcript())
    assert report.verdict == "pursue" and report.message.kind == "next_step"
    assert QUOTES["next_step_agreed"] in report.message.body
    # Only timeline is missing, so it is the one open question.
    assert [q.element for q in report.open_questions] == ["timeline"]


def test_qualify_further_draft_asks_the_top_open_questions():
    report = decide(findings([("authority", "medium")], ["need_confirmed"]), transcript())
    assert report.verdict == "qualify_further" and report.message.kind == "discovery"
    elements = [q.element for q in report.open_questions]
    assert elements == ["budget", "economic buyer", "timeline", "next step", "economic buyer"]
    authority_q = report.open_questions[-1]
    assert QUOTES["authority"] in authority_q.why and "(medium)" in authority_q.why
    for q in report.open_questions[:3]:
        assert f"- {q.question}" in report.message.body


def test_walk_away_has_no_open_questions_and_names_placeholders_without_roles():
    report = decide(findings([("fit", "high")], []))  # no transcript: no names
    assert report.open_questions == []
    assert report.message.body.startswith("Hello,")
    assert report.message.body.rstrip().endswith("[your name]")


def test_seller_side_evidence_is_never_quoted_in_a_decline():
    f = findings([("fit", "high")], [])
    f.flags[0].evidence = [
        e.model_copy(update={"role": "seller", "speaker": "Dana Reyes"}) for e in f.flags[0].evidence
    ]
    body = decide(f, transcript()).message.body
    assert QUOTES["fit"] not in body and "From what you described" in body


def test_would_change_is_computed_from_the_policy():
    nurture = decide(findings([("budget", "high")], []))
    assert "If the budget concern (high) were resolved, the verdict would be qualify_further." in nurture.would_change
    pursue = decide(findings([], CORE))
    assert pursue.would_change == ["A medium or high red flag raised later would make it qualify_further."]
    unq = decide(findings([], ["need_confirmed"]))
    assert "If budget and authority were all evidenced, the verdict would be pursue." in unq.would_change
    path = decide(findings([("authority", "medium")], []))
    assert path.would_change == [
        "If need, budget and authority were evidenced and the authority concern were resolved, "
        "the verdict would be pursue."
    ]
    ethics = decide(findings([("ethics", "high")], CORE))
    assert ethics.would_change[0].startswith("Nothing discovery can surface changes this verdict")
    incomplete = decide(findings([], CORE, failed_chunks=2))
    assert incomplete.would_change[-1].startswith("2 chunk(s) of the call were not analyzed")


def test_icp_prompt_text_is_compact_and_complete():
    icp = load_icp(REPO_ICP)
    text = icp.prompt_text()
    assert len(text.split()) <= 80
    for part in ("cloud route planning", "logistics", "50-2000 employees", "EU and UK", "fleet", "EUR 20,000"):
        assert part in text
    huge = ICP(industries=[f"industry{i}" for i in range(40)], must_haves=["x " * 30, "y " * 30])
    assert len(huge.prompt_text().split()) <= 80
    assert ICP().prompt_text() == ""
    assert CompanySize(max_employees=200).text() == "up to 200 employees"


def test_icp_adds_must_have_and_deal_size_questions_and_the_fit_rule():
    icp = load_icp(REPO_ICP)
    report = decide(findings([("fit", "medium")], ["decision_maker_engaged"]), transcript(), icp=icp)
    assert report.decided_by == "fit-medium-outside-icp"
    asks = [q.question for q in report.open_questions]
    assert any("runs a fleet of at least 20 vehicles" in q for q in asks)
    assert "Is an investment of at least EUR 20,000 in range for this project?" in asks
    assert "icp given" in report.rule_trace[0].matched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("industris: [retail]\n", "field 'industris': unknown field"),
        ("company_size: {min_employees: 500, max_employees: 50}\n", "min_employees is larger"),
        ("min_deal_size: -5\n", "field 'min_deal_size'"),
        ("- retail\n", "must be a YAML mapping"),
    ],
)
def test_icp_errors_are_one_clear_sentence(tmp_path, text, expected):
    path = tmp_path / "icp.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_icp(path)
    assert str(exc.value).startswith(str(path)) and expected in str(exc.value)


def test_signal_without_evidence_still_counts_and_drafts_propose_a_step():
    f = Findings(signals=[SignalFinding(signal=s) for s in CORE])
    report = decide(f, transcript())
    assert report.verdict == "pursue"
    assert "working session" in report.message.body
