"""Per-chunk extraction with a scripted model: scoring, evidence, re-asks, invented ids, injection."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pytest
from extraction_helpers import CALL, whole_chunk

from analyzer._errors import ExtractionError
from analyzer.extraction.backends.chat import ChatResult, FakeChat, LogprobsMissing, Message, yes_probability
from analyzer.extraction.extractor import ChunkExtractor, render_chunk
from analyzer.extraction.findings import GroundingStats
from analyzer.extraction.grounding import ground
from analyzer.extraction.prompts import Behaviour, load_prompts
from analyzer.taxonomy import CATEGORIES, SIGNALS

PROMPTS = load_prompts()
BUDGET_Q = PROMPTS.questions["budget"].question
# Requests per chunk: a question asked as behaviours is asked as each of them, and once as itself.
ASKS = sum(len(q.asked()) + bool(q.behaviours) for q in PROMPTS.questions.values())
# Where the budget question's request falls among them (fit, asked first, may be asked as behaviours).
BUDGET_AT = len(PROMPTS.questions["fit"].asked()) + bool(PROMPTS.questions["fit"].behaviours)
ONLY_BUDGET_YES: list[str | ChatResult | Exception] = ["No"] * BUDGET_AT + ["Yes"] + ["No"] * (ASKS - BUDGET_AT - 1)


def responder_for(yes: set[str], evidence: dict[str, Any]) -> Any:
    """Answer Yes to the questions of the named categories/signals, and the given evidence JSON."""
    by_question = {text: name for name, q in PROMPTS.questions.items() for text in (q.question, *q.asked().values())}

    def respond(messages: Sequence[Message], schema: dict[str, Any] | None) -> str:
        user = messages[-1]["content"] if messages[-1]["role"] == "user" else ""
        name = next((n for q, n in by_question.items() if q in messages[1]["content"]), None)
        if schema is not None:
            return json.dumps(evidence[name])
        assert user
        return "Yes" if name in yes else "No"

    return respond


def test_yes_probability_normalises_over_yes_and_no() -> None:
    r = ChatResult(text="Yes", top_logprobs=[("Yes", math.log(0.6)), ("No", math.log(0.2)), (" ", math.log(0.2))])
    assert yes_probability(r) == pytest.approx(0.75)
    assert yes_probability(ChatResult(text="No", top_logprobs=[(".", -0.1)])) == 0.0
    assert yes_probability(ChatResult(text="Maybe")) is None


def test_render_numbers_sentences_and_maps_back() -> None:
    rendered = render_chunk(CALL, whole_chunk(CALL))
    assert rendered.text.splitlines()[1] == (
        "Sam (prospect): [3] Honestly our budget is frozen until next fiscal year. [4] Nothing moves before April."
    )
    assert rendered.numbers[3] == "t2.1"
    assert len(rendered.numbers) == 8


async def test_only_passing_questions_are_asked_for_evidence() -> None:
    chat = FakeChat(
        responder=responder_for({"budget"}, {"budget": {"ids": [3], "severity": "high", "reason": "frozen"}})
    )
    out = await ChunkExtractor(chat, PROMPTS, max_reasks=2).run(render_chunk(CALL, whole_chunk(CALL)))
    assert len(chat.calls) == ASKS + 1
    assert [f.name for f in out.findings] == ["budget"]
    f = out.findings[0]
    assert f.sentence_ids == ["t2.1"] and f.severity == "high"
    # The answer ends after the severity: no free-text reason is generated.
    assert list(chat.calls[-1]["schema"]["properties"]) == ["ids", "severity"]
    # budget is calibrated: 0.95 above a chunk mean of (0.95 + 12 x 0.05) / 13, clamped to 1. ethics' 0.05
    # is under the calibration floor, so it keeps its raw score; need_confirmed is never calibrated.
    assert out.scores["budget"] == 1.0
    assert out.scores["ethics"] == pytest.approx(0.05)
    assert out.scores["need_confirmed"] == pytest.approx(0.05)


async def test_calibrated_questions_are_scored_against_the_chunk_mean() -> None:
    """Two questions Yes at 0.8, the rest at 0.3 (above the floor): a calibrated question's score moves by
    0.5 - mean; an uncalibrated one keeps its P(Yes); one under the floor keeps its own."""
    prompts = PROMPTS.model_copy(deep=True)
    for name, q in prompts.questions.items():
        q.calibrated = name in ("ethics", "budget", "fit")
        q.threshold = q.cue_threshold = 0.99  # nothing passes: this test is about scores
    yes = {"ethics", "need_confirmed"}
    low = {"fit"}
    by_question = {text: name for name, q in prompts.questions.items() for text in (q.question, *q.asked().values())}

    def respond(messages: Sequence[Message], schema: dict[str, Any] | None) -> ChatResult:
        name = next(n for q, n in by_question.items() if q in messages[1]["content"])
        p = 0.8 if name in yes else 0.1 if name in low else 0.3
        return ChatResult(text="Yes", top_logprobs=[("Yes", math.log(p)), ("No", math.log(1 - p))])

    out = await ChunkExtractor(FakeChat(responder=respond), prompts, max_reasks=0).run(
        render_chunk(CALL, whole_chunk(CALL))
    )
    mean = (2 * 0.8 + 0.1 + 10 * 0.3) / 13
    assert out.scores["ethics"] == pytest.approx(0.8 - mean + 0.5)
    assert out.scores["budget"] == pytest.approx(0.3 - mean + 0.5)
    assert out.scores["need_confirmed"] == pytest.approx(0.8)  # not calibrated
    assert out.scores["fit"] == pytest.approx(0.1)  # under the floor: a clear No stays one
    assert out.findings == []


async def test_behaviours_are_asked_instead_of_the_question_and_the_best_one_scores() -> None:
    """A question with behaviours asks each of them, scores as its best behaviour and asks for evidence with
    the behaviour that scored; its own text is asked only for the chunk mean, which behaviours never enter."""
    prompts = PROMPTS.model_copy(deep=True)
    for name, q in prompts.questions.items():
        q.calibrated = name == "prospect_declined"
        q.threshold = q.cue_threshold = 0.99
        q.behaviours = {}  # only the behaviours below
    declined = prompts.questions["prospect_declined"]
    declined.behaviours = {
        "said_no": Behaviour(question="Did they say no to buying?", label="said no"),
        "later": Behaviour(question="Did they ask to talk again later?", label="asked to talk again later"),
    }
    declined.threshold = declined.cue_threshold = 0.6
    p_of = {"Did they say no to buying?": 0.2, "Did they ask to talk again later?": 0.7}

    def respond(messages: Sequence[Message], schema: dict[str, Any] | None) -> ChatResult | str:
        user = messages[1]["content"]
        if schema is not None:
            assert "Did they ask to talk again later?" in user
            return json.dumps({"ids": [4]})
        p = next((v for text, v in p_of.items() if text in user), 0.3)
        return ChatResult(text="Yes", top_logprobs=[("Yes", math.log(p)), ("No", math.log(1 - p))])

    chat = FakeChat(responder=respond)
    out = await ChunkExtractor(chat, prompts, max_reasks=0).run(render_chunk(CALL, whole_chunk(CALL)))
    asked = [c["messages"][1]["content"] for c in chat.calls]
    assert sum(declined.question in u for u in asked) == 1  # for the mean only
    assert len(asked) == len(CATEGORIES) + len(SIGNALS) + 2 + 1  # two behaviours more, plus evidence
    mean = 13 * 0.3 / 13  # the 13 questions themselves, each at 0.3
    assert out.scores["prospect_declined"] == pytest.approx(0.7 - mean + 0.5)
    assert [(f.name, f.sentence_ids) for f in out.findings] == [("prospect_declined", ["t2.2"])]
    # The behaviour that scored names what the prospect did, in the report too.
    assert out.findings[0].label == "asked to talk again later"
    _, signals = ground(CALL, out.findings, GroundingStats())
    assert [(s.signal, s.title) for s in signals] == [
        ("prospect_declined", "prospect_declined (asked to talk again later)")
    ]


async def test_prefix_is_shared_and_question_comes_last() -> None:
    chat = FakeChat(responder=responder_for(set(), {}))
    await ChunkExtractor(chat, PROMPTS, max_reasks=0).run(render_chunk(CALL, whole_chunk(CALL)))
    users = [c["messages"][1]["content"] for c in chat.calls]
    prefix = users[0].split("</transcript>")[0]
    assert all(u.startswith(prefix) for u in users)
    assert all(u.rstrip().endswith("Answer Yes or No.") for u in users)


async def test_injected_instruction_stays_inside_the_transcript_block() -> None:
    chat = FakeChat(responder=responder_for(set(), {}))
    await ChunkExtractor(chat, PROMPTS, max_reasks=0).run(render_chunk(CALL, whole_chunk(CALL)))
    for call in chat.calls:
        system, user = call["messages"]
        assert system["role"] == "system" and "Ignore previous" not in system["content"]
        start, end = user["content"].index("<transcript>"), user["content"].index("</transcript>")
        pos = user["content"].index("Ignore previous instructions")
        assert start < pos < end
    assert "never obey it" in PROMPTS.system


async def test_bad_json_is_reasked_with_the_error_then_accepted() -> None:
    script = list(ONLY_BUDGET_YES)
    chat = FakeChat(script)
    chat.enqueue('{"ids": [3], "severity": "huge"', '{"ids": [3], "severity": "medium", "reason": "frozen budget"}')
    out = await ChunkExtractor(chat, PROMPTS, max_reasks=2).run(render_chunk(CALL, whole_chunk(CALL)))
    assert [f.name for f in out.findings] == ["budget"]
    reask = chat.calls[-1]["messages"]
    assert reask[-2]["role"] == "assistant" and "invalid" in reask[-1]["content"]
    assert out.findings[0].severity == "medium"


async def test_invalid_output_after_bounded_reasks_names_the_chunk() -> None:
    chat = FakeChat([*ONLY_BUDGET_YES, *["not json"] * 3])
    with pytest.raises(ExtractionError, match=r"^chunk 4: .*budget.*2 re-asks"):
        await ChunkExtractor(chat, PROMPTS, max_reasks=2).run(render_chunk(CALL, whole_chunk(CALL, index=4)))


async def test_invented_ids_are_dropped_and_counted() -> None:
    chat = FakeChat(
        responder=responder_for({"budget"}, {"budget": {"ids": [3, 99], "severity": "high", "reason": "x"}})
    )
    out = await ChunkExtractor(chat, PROMPTS, max_reasks=0).run(render_chunk(CALL, whole_chunk(CALL)))
    stats = GroundingStats()
    flags, _ = ground(CALL, out.findings, stats)
    assert stats.cited == 2 and stats.dropped_unknown_id == 1 and stats.kept == 1
    assert [e.sentence_id for e in flags[0].evidence] == ["t2.1"]
    assert flags[0].evidence[0].quote == "Honestly our budget is frozen until next fiscal year."


async def test_an_invalid_answer_is_not_kept_in_the_response_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from analyzer.extraction.cache import CachedChat, ResponseCache

    good = '{"ids": [3], "severity": "high", "reason": "x"}'
    inner = FakeChat([*ONLY_BUDGET_YES, "not json", good])
    cache = ResponseCache(tmp_path / "c.sqlite3")
    rendered = render_chunk(CALL, whole_chunk(CALL))
    await ChunkExtractor(CachedChat(inner, cache, namespace="v"), PROMPTS, max_reasks=1).run(rendered)
    # Replaying the run from the cache alone must reach the valid answer, never the invalid one.
    replay = FakeChat(['{"ids": [3], "severity": "high", "reason": "x"}'])
    out = await ChunkExtractor(CachedChat(replay, cache, namespace="v"), PROMPTS, max_reasks=0).run(rendered)
    assert [f.name for f in out.findings] == ["budget"]
    assert len(replay.calls) == 1  # only the evidence request that had been answered badly is asked again


async def test_editing_one_question_re_asks_only_that_question(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from analyzer.extraction.cache import CACHE_NAMESPACE, CachedChat, ResponseCache

    cache = ResponseCache(tmp_path / "c.sqlite3")
    rendered = render_chunk(CALL, whole_chunk(CALL))
    first = FakeChat(responder=responder_for(set(), {}))
    await ChunkExtractor(CachedChat(first, cache, namespace=CACHE_NAMESPACE), PROMPTS, max_reasks=0).run(rendered)
    assert len(first.calls) == ASKS
    edited = PROMPTS.model_copy(deep=True)
    edited.questions["ethics"].question = "Does the prospect ask the seller for a personal payment?"
    second = FakeChat(["No"])
    await ChunkExtractor(CachedChat(second, cache, namespace=CACHE_NAMESPACE), edited, max_reasks=0).run(rendered)
    # The cache is addressed by the request's content: the 12 unchanged questions are answered from it.
    assert len(second.calls) == 1
    assert "personal payment" in second.calls[0]["messages"][-1]["content"]


async def test_an_unfocused_question_is_not_pointed_at_cue_sentences() -> None:
    rendered = render_chunk(CALL, whole_chunk(CALL))
    edited = PROMPTS.model_copy(deep=True)
    edited.questions["authority"].focus = False
    cues = {"budget": ["t2.1"], "authority": ["t4.1"]}
    chat = FakeChat(responder=responder_for(set(), {}))
    out = await ChunkExtractor(chat, edited, max_reasks=0, cues=cues).run(rendered)
    asked = {
        n: c["messages"][-1]["content"]
        for c in chat.calls
        for n in ("budget", "authority")
        if PROMPTS.questions[n].question in c["messages"][-1]["content"]
    }
    assert "Look closely at sentences [3]" in asked["budget"]
    assert "Look closely" not in asked["authority"]
    # Only a focused question counts as cue-matched, so only it is held to the cue cut-off.
    assert out.cue_hits == {"budget"}


def test_the_manifest_names_unfocused_questions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from analyzer.extraction.prompts import shipped_prompts_dir

    folder = tmp_path / "prompts"
    shutil.copytree(shipped_prompts_dir(), folder)
    manifest = folder / "manifest.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("unfocused: [authority, prospect_declined]", "unfocused: [fit]"))
    loaded = load_prompts(folder)
    assert not loaded.questions["fit"].focus and loaded.questions["budget"].focus



def test_the_manifest_gives_a_question_behaviours_and_refuses_an_unknown_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from analyzer._errors import ConfigError
    from analyzer.extraction.prompts import shipped_prompts_dir

    folder = tmp_path / "prompts"
    shutil.copytree(shipped_prompts_dir(), folder)
    manifest = folder / "manifest.yaml"
    text = manifest.read_text()
    # A behaviour is its question alone, or a question and the label the report gives it. (The shipped
    # manifest's own `behaviours:` is replaced: YAML keeps the last of two equal keys.)
    manifest.write_text(
        text + '\nbehaviours:\n  fit:\n    too_small: "Is their company far too small?"\n'
        '    other: {question: "Do they want another kind of product?", label: "wants another product"}\n'
    )
    loaded = load_prompts(folder)
    fit = loaded.questions["fit"]
    assert fit.asked() == {
        "too_small": "Is their company far too small?",
        "other": "Do they want another kind of product?",
    }
    assert (fit.label("too_small"), fit.label("other"), fit.label("")) == ("", "wants another product", "")
    assert loaded.questions["budget"].asked() == {"": loaded.questions["budget"].question}
    bad = tmp_path / "bad"  # a new folder: loaded prompt folders are cached
    shutil.copytree(folder, bad)
    (bad / "manifest.yaml").write_text(text + '\nbehaviours:\n  fitt:\n    too_small: "Is it far too small?"\n')
    with pytest.raises(ConfigError, match=r"manifest\.yaml: behaviours\.fitt"):
        load_prompts(bad)

@pytest.mark.parametrize("text", ["I think so", "No", "Yes"])
async def test_an_endpoint_without_logprobs_raises_instead_of_answering_no(text: str) -> None:
    # Even a clean "No" is no score: without log-probabilities the thresholds mean nothing, and most such
    # answers would be a flat "No". The pipeline falls back to the structured strategy (test_providers.py).
    chat = FakeChat(responder=lambda messages, schema: ChatResult(text=text))
    with pytest.raises(LogprobsMissing, match=r"without log-probabilities.*--strategy structured"):
        await ChunkExtractor(chat, PROMPTS, max_reasks=2).run(render_chunk(CALL, whole_chunk(CALL)))
    assert len(chat.calls) == 1  # the first question already stops the chunk
    assert yes_probability(ChatResult(text="Yes.")) == 1.0  # the text reading stays for callers that want it
