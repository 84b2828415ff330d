"""Seller-speech rule, merge across overlapping chunks, and the response cache."""

from __future__ import annotations

import itertools

from extraction_helpers import CALL, make_transcript

from analyzer.extraction.backends.chat import FakeChat
from analyzer.extraction.cache import CachedChat, ResponseCache
from analyzer.extraction.extractor import RawFinding
from analyzer.extraction.findings import Evidence, Flag, GroundingStats
from analyzer.extraction.grounding import ground
from analyzer.extraction.merge import merge_flags


def raw(name: str, ids: list[str], severity: str = "high", kind: str = "flag") -> RawFinding:
    return RawFinding(
        name=name, kind=kind, score=0.9, sentence_ids=ids, cited=len(ids), unknown_ids=0, severity=severity
    )  # type: ignore[arg-type]


def test_flag_with_only_seller_evidence_is_dropped() -> None:
    stats = GroundingStats()
    flags, _ = ground(CALL, [raw("budget", ["t1.2"])], stats)  # the seller: "I know budgets are tight"
    assert flags == [] and stats.dropped_seller_only == 1


def test_seller_quotes_are_removed_from_a_flag_the_prospect_supports() -> None:
    flags, _ = ground(CALL, [raw("budget", ["t1.2", "t2.1"])], GroundingStats())
    assert [e.sentence_id for e in flags[0].evidence] == ["t2.1"]


def test_unknown_role_evidence_is_downgraded() -> None:
    t = make_transcript([("A", "unknown", ["We have no money at all."]), ("B", "unknown", ["Okay."])])
    stats = GroundingStats()
    flags, _ = ground(t, [raw("budget", ["t1.1"], "high")], stats)
    assert flags[0].severity == "medium" and flags[0].downgraded and stats.downgraded_seller_only == 1


def test_signal_keeps_seller_evidence() -> None:
    _, signals = ground(CALL, [raw("next_step_agreed", ["t3.2"], kind="signal")], GroundingStats())
    assert signals[0].evidence[0].speaker == "Dana"


def _ev(sid: str) -> Evidence:
    return Evidence(sentence_id=sid, turn_id=sid.split(".")[0], speaker="Sam", role="prospect", quote=sid)


def test_merge_dedupes_overlap_and_is_order_independent() -> None:
    a = Flag(category="budget", severity="medium", score=0.7, evidence=[_ev("t2.1"), _ev("t10.1")])
    b = Flag(category="budget", severity="high", score=0.8, rationale="frozen", evidence=[_ev("t10.1"), _ev("t3.1")])
    c = Flag(category="ethics", severity="high", score=0.9, evidence=[_ev("t4.2")])
    results = {m.model_dump_json() for p in itertools.permutations([a, b, c]) for m in [merge_flags(list(p))[0]]}
    assert len(results) == 1
    merged = merge_flags([a, b, c])
    assert [f.category for f in merged] == ["budget", "ethics"]
    assert merged[0].severity == "high" and merged[0].rationale == "frozen"
    assert [e.sentence_id for e in merged[0].evidence] == ["t2.1", "t3.1", "t10.1"]


def test_merge_rates_an_ethics_flag_high_whatever_the_model_said() -> None:
    a = Flag(category="ethics", severity="medium", score=0.6, rationale="asked for a fee", evidence=[_ev("t4.2")])
    b = Flag(category="ethics", severity="low", score=0.5, evidence=[_ev("t7.1")])
    fit = Flag(category="fit", severity="medium", score=0.6, evidence=[_ev("t2.1")])
    ethics, = [f for f in merge_flags([a, b, fit]) if f.category == "ethics"]
    assert ethics.severity == "high" and "rated medium; ethics is always high" in ethics.rationale
    assert [f.severity for f in merge_flags([a, b, fit]) if f.category == "fit"] == ["medium"]


def test_merge_keeps_a_downgraded_ethics_flag_lowered() -> None:
    # The seller-speech rule lowered it: the prospect side never said it, so it must not become high.
    seller_only = Flag(category="ethics", severity="medium", score=0.7, evidence=[_ev("t1.1")], downgraded=True)
    assert merge_flags([seller_only])[0].severity == "medium"
    said = Flag(category="ethics", severity="medium", score=0.6, evidence=[_ev("t5.1")])
    assert merge_flags([seller_only, said])[0].severity == "high"


async def test_cache_answers_repeat_requests_without_the_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    inner = FakeChat(["Yes"])
    chat = CachedChat(inner, ResponseCache(tmp_path / "c.sqlite3"), namespace="v1")
    msgs = [{"role": "user", "content": "q"}]
    first = await chat.complete(msgs, max_tokens=1, top_logprobs=5)
    second = await chat.complete(msgs, max_tokens=1, top_logprobs=5)
    assert len(inner.calls) == 1 and not first.from_cache and second.from_cache
    assert second.top_logprobs == first.top_logprobs
    other_ns = CachedChat(inner, ResponseCache(tmp_path / "c.sqlite3"), namespace="v2")
    await other_ns.complete(msgs, max_tokens=1, top_logprobs=5)
    assert len(inner.calls) == 2  # another namespace (cache format) never reuses old answers


async def test_two_endpoints_serving_one_model_name_do_not_share_answers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    inner = FakeChat(["Yes", "No", "No"])
    cache = ResponseCache(tmp_path / "c.sqlite3")
    msgs = [{"role": "user", "content": "q"}]
    a = CachedChat(inner, cache, namespace="v1", endpoint="http://127.0.0.1:1/v1/")
    b = CachedChat(inner, cache, namespace="v1", endpoint="http://127.0.0.1:2/v1")
    await a.complete(msgs, max_tokens=1, top_logprobs=5)
    assert not (await b.complete(msgs, max_tokens=1, top_logprobs=5)).from_cache
    # The same endpoint (trailing slash or not) does share; no endpoint keeps the embedded model's keys.
    same = CachedChat(inner, cache, namespace="v1", endpoint="http://127.0.0.1:1/v1")
    assert (await same.complete(msgs, max_tokens=1, top_logprobs=5)).from_cache
    local = CachedChat(inner, cache, namespace="v1")
    assert local.key(msgs, 1, 5, None) != a.key(msgs, 1, 5, None)
