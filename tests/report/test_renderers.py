"""Golden tests for every renderer, plus escaping, incompleteness and determinism.

Regenerate the goldens after an intended change with ``WALKAWAY_UPDATE_GOLDEN=1 pytest tests/report``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from report_helpers import SCENARIOS, walk_away_incomplete

import analyzer.report as report_pkg
from analyzer._errors import ConfigError
from analyzer.report import FORMATS, render

GOLDEN = Path(__file__).parent / "golden"
EXT = {"text": "txt", "json": "json", "md": "md", "html": "html"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_golden(scenario, fmt):
    out = render(SCENARIOS[scenario](), fmt)
    path = GOLDEN / f"{scenario}.{EXT[fmt]}"
    if os.environ.get("WALKAWAY_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"missing golden {path.name}; run with WALKAWAY_UPDATE_GOLDEN=1"
    assert out == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_rendering_is_deterministic(fmt):
    assert render(walk_away_incomplete(), fmt) == render(walk_away_incomplete(), fmt)


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_incomplete_report_says_so_visibly(fmt):
    out = render(walk_away_incomplete(), fmt)
    assert "INCOMPLETE ANALYSIS: 1 chunk(s) failed" in out
    assert "chunk 1: model output stayed invalid" in out
    complete = render(SCENARIOS["nurture"](), fmt)
    assert "INCOMPLETE" not in complete


def test_json_incomplete_flag_and_round_trip():
    report = walk_away_incomplete()
    data = json.loads(render(report, "json"))
    assert data["complete"] is False and data["schema_version"] == "1"
    assert data["verdict"] == "walk_away" and data["decided_by"] == "ethics-high"
    assert report_pkg.Report.model_validate(data) == report


def test_html_escapes_everything_and_highlights_evidence():
    html = render(walk_away_incomplete(), "html")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html
    assert "Sam &lt;Lee&gt;" in html and "Sam <Lee>" not in html
    assert "acme &lt;demo&gt;.vtt" in html
    assert '<mark id="s-t4.2" class="sev-high" title="ethics (high)">' in html
    assert '<mark id="s-t2.1" class="signal" title="need_confirmed">' in html
    assert '<a href="#s-t4.1">' in html  # flags link to the highlighted sentence
    assert "<link" not in html and "src=" not in html  # standalone: nothing external


def test_html_without_transcript_says_why_evidence_is_not_in_context():
    html = render(SCENARIOS["qualify_no_transcript"](), "html")
    assert "transcript was not saved with this report" in html


def test_markdown_neutralises_markup_and_pipes():
    md = render(walk_away_incomplete(), "md")
    assert "Sam &lt;Lee&gt;" in md and "<Lee>" not in md
    assert "next fiscal year \\| maybe later" in md


def test_text_has_banner_flags_with_quotes_and_timestamps():
    text = render(walk_away_incomplete(), "text")
    assert "WALK AWAY" in text and "decided by rule ethics-high" in text
    assert "“Budget is frozen until next" in text and "finder's fee" in text
    assert "0:47" in text
    assert "\x1b[" not in text  # plain: no colour codes in rendered text
    assert "1:02:05" in render(SCENARIOS["nurture"](), "text")  # hour-long calls keep h:mm:ss


def test_ethics_decline_in_every_renderer_quotes_nothing():
    for fmt in ("text", "md", "html"):
        out = render(walk_away_incomplete(), fmt)
        message = out.split("Message draft" if fmt != "text" else "message draft", 1)[1]
        message = message.split("Rule trace", 1)[0]
        assert "finder" not in message.lower() and "fee" not in message.lower()


def test_unknown_format_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown report format 'pdf'"):
        render(walk_away_incomplete(), "pdf")  # type: ignore[arg-type]


def test_public_names():
    for name in report_pkg.__all__:
        assert hasattr(report_pkg, name)
    assert {"render", "write_report", "load_report"} <= set(report_pkg.__all__)


def test_markdown_never_renders_transcript_text_as_markup() -> None:
    from analyzer.report._markdown import _esc

    hostile = "*urgent* [click](http://evil.example) `code` <script>x</script> # not a heading ~strike~"
    out = _esc(hostile)
    for raw in ("*urgent*", "[click]", "`code`", "<script>", "~strike~"):
        assert raw not in out
    assert out.replace("\\", "") == hostile.replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_every_renderer_shows_the_parsers_warnings(fmt: str, tmp_path: Path) -> None:
    from analyzer.pipeline import analyze

    call = tmp_path / "sellers.txt"
    call.write_text("Dana Reyes: Hi Sam, thanks for joining.\nSam Lee: Sure, glad to help.\n")
    report = analyze(call, seller=["Dana Reyes", "Sam Lee"], backend="keywords")
    out = render(report, fmt)  # type: ignore[arg-type]
    assert "nobody speaks for the prospect" in " ".join(out.split())
