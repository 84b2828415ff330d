"""End to end with the real embedded model (marked `local_llm`; slow: tens of seconds per call on 2 cores).

They assert structure and grounding everywhere, and labels only where a 1.5B model is reliable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import cli
from analyzer.pipeline import analyze
from analyzer.taxonomy import VERDICTS
from analyzer.transcript import parse_file

pytestmark = pytest.mark.local_llm

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "evals" / "smoke.yaml"
KICKBACK = REPO / "evals" / "smoke" / "s1-kickback-walk-away.txt"


@pytest.fixture(scope="module")
def model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-home")


def test_analyze_returns_a_grounded_complete_report(model_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_HOME", str(model_home))
    report = analyze(KICKBACK, seller=["Nina Brooks"], backend="local")
    assert report.verdict in VERDICTS
    assert report.complete and not report.chunk_failures
    assert report.backend == "local" and report.model.startswith("qwen2.5")
    assert report.usage.calls >= 13 and report.usage.prompt_tokens > 0
    transcript = parse_file(KICKBACK, seller=["Nina Brooks"])
    sentences = {s.id: s.text for t in transcript.turns for s in t.sentences}
    quotes = [e for f in report.flags for e in f.evidence] + [e for s in report.signals for e in s.evidence]
    for e in quotes:
        assert sentences[e.sentence_id] == e.quote  # every quote is verbatim call text
    for f in report.flags:
        assert f.evidence and all(e.role != "seller" for e in f.evidence)
    # A spoken kickback request is the one label a 1.5B model gets reliably.
    assert "ethics" in {f.category for f in report.flags}
    # A second run is answered from the response cache: no LLM call.
    again = analyze(KICKBACK, seller=["Nina Brooks"], backend="local")
    assert again.usage.cache_hits == again.usage.calls and again.verdict == report.verdict


def test_smoke_suite_runs_end_to_end(model_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_HOME", str(model_home))
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["eval", str(SMOKE), "--backend", "local", "--concurrency", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    runs = [c["runs"][0] for c in data["cases"]]
    assert len(runs) == 5
    assert all(r["verdict"] in VERDICTS and r["error"] is None for r in runs)
    assert data["summary"]["grounding_drop_rate"]["mean"] == 0.0


def test_in_process_model_reads_yes_no_from_one_logit_row_and_reuses_the_prefix(model_home: Path) -> None:
    """The in-process backend: a P(Yes) that follows the text, and a second question over the same excerpt
    evaluates only its own suffix (the KV cache of the shared prefix is kept)."""
    import asyncio

    from analyzer.config import load_settings
    from analyzer.extraction.backends.chat import yes_probability
    from analyzer.extraction.backends.llamacpp import get_local_chat

    s = load_settings()
    chat = get_local_chat(model_dir=s.model_dir, n_ctx=4096, threads=s.local_threads)
    excerpt = "Sam (prospect): We need a finder's fee paid to my own consultancy, and nobody else needs to know."

    def ask(question: str) -> tuple[float | None, int]:
        before = chat.tokens_evaluated
        messages = [
            {"role": "system", "content": "Answer the question about the excerpt."},
            {"role": "user", "content": f"<excerpt>\n{excerpt}\n</excerpt>\nQuestion: {question}\nAnswer Yes or No."},
        ]
        result = asyncio.run(chat.complete(messages, max_tokens=1, top_logprobs=10))
        return yes_probability(result), chat.tokens_evaluated - before

    p_fee, _ = ask("Does the prospect ask for money to go to themselves personally?")
    p_date, evaluated = ask("Does the prospect give a date for going live?")
    assert p_fee is not None and p_date is not None and p_fee > p_date
    assert evaluated < 30  # the suffix only, not the excerpt again


def test_json_answer_checks_one_token_and_matches_the_grammar_sampler(model_home: Path) -> None:
    """A JSON answer decoded by checking the grammar against the model's best token is the answer llama.cpp's
    grammar sampler gives over every candidate (``create_chat_completion``), and it keeps to the schema."""
    from analyzer.config import load_settings
    from analyzer.extraction.backends import llamacpp
    from analyzer.extraction.extractor import evidence_schema

    s = load_settings()
    chat = llamacpp.get_local_chat(model_dir=s.model_dir, n_ctx=4096, threads=s.local_threads)
    lines = [
        "Sam (prospect): [1] Thanks for making the time.",
        "Ann (seller): [2] Of course. [3] What would make this work for you?",
        "Sam (prospect): [4] We need a finder's fee paid to my own consultancy. [5] Nobody else needs to know.",
    ]
    messages = [
        {"role": "system", "content": "You cite sentences of a sales call by number."},
        {
            "role": "user",
            "content": "\n".join(lines) + "\nQuestion: does the prospect ask for a payment to themselves?\n"
            "The answer is Yes. Give the numbers of the 1 to 3 sentences that show it, and a severity. Reply "
            "with a JSON object only.",
        },
    ]
    schema = evidence_schema([1, 2, 3, 4, 5], with_severity=True)
    try:
        llamacpp.GRAMMAR_CHECKS_ONE_TOKEN = False
        every = chat._generate(messages, 60, schema)
    finally:
        llamacpp.GRAMMAR_CHECKS_ONE_TOKEN = True
    one = chat._generate(messages, 60, schema)
    assert one.text == every.text
    answer = json.loads(one.text)
    assert set(answer) == {"ids", "severity"}
    assert answer["ids"] and set(answer["ids"]) <= {1, 2, 3, 4, 5}
    assert answer["severity"] in {"low", "medium", "high"}
    assert one.completion_tokens == every.completion_tokens > 0
