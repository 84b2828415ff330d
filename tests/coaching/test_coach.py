"""Discovery coaching: the seller's questions by area (cited verbatim), red flags followed up or talked
past, talk ratio and the longest monologue, and the section every report format shows."""

from __future__ import annotations

import pytest

from analyzer.coaching import AREAS, coach
from analyzer.coaching.coach import is_question
from analyzer.extraction.findings import Evidence, Flag
from analyzer.pipeline import analyze
from analyzer.report import render
from analyzer.transcript import parse_bytes

CALL = (
    b"Sam Seller: Thanks for the time. How does your team handle scheduling today?\n"
    b"Pat Buyer: Mostly a whiteboard and a lot of phone calls.\n"
    b"Sam Seller: Who else would be involved in signing off on a change like this?\n"
    b"Pat Buyer: Just me. But honestly we have no budget for anything this year.\n"
    b"Sam Seller: Our platform has twelve modules and a mobile app and it integrates with everything you "
    b"could want, and we have won three awards, and our support team is in four time zones.\n"
    b"Pat Buyer: Our last vendor was a nightmare, we never paid them on time.\n"
    b"Sam Seller: When would you want to be live?\n"
)


def _flag(t, category: str, quote_start: str) -> Flag:  # type: ignore[no-untyped-def]
    turn, sentence = next((tu, s) for tu in t.turns for s in tu.sentences if s.text.startswith(quote_start))
    return Flag(category=category, severity="medium", evidence=[Evidence.of(turn, sentence)])


def test_areas_asked_are_cited_and_the_rest_listed_as_never_asked() -> None:
    t = parse_bytes(CALL, filename="c.txt", seller=["Sam Seller"])
    c = coach(t, [])
    assert set(c.asked) == {"need", "authority", "timeline"}
    assert c.asked["authority"][0].quote == "Who else would be involved in signing off on a change like this?"
    assert c.asked["need"][0].speaker == "Sam Seller"
    assert c.not_asked == ["fit", "budget"] and set(c.asked) | set(c.not_asked) == set(AREAS)
    assert c.questions == 3


def test_a_red_flag_is_followed_up_or_talked_past() -> None:
    t = parse_bytes(CALL, filename="c.txt", seller=["Sam Seller"])
    budget = _flag(t, "budget", "But honestly we have no budget")
    relationship = _flag(t, "relationship", "Our last vendor was a nightmare")
    c = coach(t, [budget, relationship])
    talked, followed = c.follow_ups
    # The seller's next turn after "no budget" is a pitch with no question: talked past it.
    assert (talked.category, talked.followed_up, talked.reply) == ("budget", False, "")
    assert (followed.category, followed.followed_up, followed.reply) == (
        "relationship",
        True,
        "When would you want to be live?",
    )


def test_talk_ratio_and_the_longest_monologue() -> None:
    t = parse_bytes(CALL, filename="c.txt", seller=["Sam Seller"])
    c = coach(t, [])
    assert c.longest_monologue_speaker == "Sam Seller" and c.longest_monologue_words == 32
    assert c.talk_ratio is not None and 0.6 < c.talk_ratio < 0.8


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("How many people are on the team?", True),
        ("so how many people are on the team", True),  # ASR: no punctuation, a question word first
        ("um do you have a budget for this", True),
        ("We can start next week.", False),
        ("what we do is capture invoices.", False),  # a full stop: a statement that starts with "what"
        ("okay great", False),
    ],
)
def test_question_sentences_with_and_without_punctuation(text: str, question: bool) -> None:
    assert is_question(text) is question


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json"])
def test_every_report_format_shows_the_coaching(fmt: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.txt"
    path.write_bytes(CALL)
    report = analyze(path, seller=["Sam Seller"], backend="keywords")
    assert report.coaching is not None
    out = render(report, fmt)  # type: ignore[arg-type]
    flat = " ".join(out.replace("│", " ").split())  # the terminal panel wraps long lines
    assert "Who else would be involved in signing off" in flat
    if fmt != "json":
        assert "Never asked: fit, budget." in flat
