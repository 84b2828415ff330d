"""How much personal data the offline recognizer finds, and what redaction costs in time.

Run: ``python benchmarks/redaction.py [SUITE.yaml ...]`` (default: evals/dev.yaml).

Ground truth comes from the calls themselves: every time a speaker's name (full, first or last) is said
inside the call, that span is a person's name. The recognizer (Presidio + spaCy en_core_web_sm, as
``analyzer/extraction/redact.py`` configures it) is scored on whether a ``PERSON`` span covers it, before
redaction's own speaker-name replacement (which catches every such mention by construction). So the
printed recall is the recognizer's recall on names in conversational speech: a fair estimate of how well
it catches the names of people who are *not* on the call, which only the recognizer can replace.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analyzer.eval.suite import load_suite  # noqa: E402
from analyzer.extraction import redact  # noqa: E402
from analyzer.transcript import parse_file  # noqa: E402


def main(paths: list[str], limit_full: int = 20) -> None:
    engine = redact._load_engine()
    found = total = calls = 0
    seconds: list[float] = []
    orgs = 0
    for suite_path in paths or [str(REPO / "evals" / "dev.yaml")]:
        suite = load_suite(suite_path)
        for case in suite.cases:
            t = parse_file(suite.transcript_path(case), seller=case.seller)
            if any(s.name.lower().startswith("speaker") for s in t.speakers):
                continue  # ASR-style labels: no names are spoken
            calls += 1
            tokens = {tok for s in t.speakers for tok in re.findall(r"[^\W\d_][\w'-]*", s.name) if len(tok) >= 3}
            pattern = re.compile(
                r"(?<!\w)(" + "|".join(map(re.escape, sorted(tokens, key=len, reverse=True))) + r")(?!\w)"
            )
            texts = [s.text for turn in t.turns for s in turn.sentences]
            start = time.perf_counter()
            results = list(engine.analyze_iterator(texts, language="en", score_threshold=redact._MIN_SCORE))
            seconds.append(time.perf_counter() - start)
            if calls <= limit_full:
                view, _ = redact.redact_transcript(t)
                assert not any(pattern.search(s.text) for turn in view.turns for s in turn.sentences), case.id
            for text, res in zip(texts, results, strict=True):
                people = [(r.start, r.end) for r in res if r.entity_type == "PERSON"]
                orgs += sum(r.entity_type == "ORGANIZATION" for r in res)
                for m in pattern.finditer(text):
                    total += 1
                    found += any(a <= m.start() and m.end() <= b for a, b in people)
    print(f"recognizer: {redact.recognizer_name()}")
    print(f"calls with named speakers: {calls}")
    print(f"spoken name mentions: {total}; covered by a PERSON span: {found}; recall {found / max(total, 1):.3f}")
    print(f"ORGANIZATION spans replaced: {orgs}")
    print(f"speaker names left in the model's view after full redaction: 0 (checked on the first {limit_full} calls)")
    print(f"seconds per call (recognizer): mean {statistics.fmean(seconds):.2f}, max {max(seconds):.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
