"""Showing runs: rich tables for the terminal and a self-contained ``report.html``.

Both read only ``RunResults`` (what ``results.json`` holds), so a saved run can be re-rendered.
The HTML is rendered by Jinja2 with autoescaping on: transcript quotes and error messages are untrusted.
"""

from __future__ import annotations

from jinja2 import Environment
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from analyzer.eval.compare import Comparison
from analyzer.eval.folds import CrossValidation
from analyzer.eval.junit import case_problems
from analyzer.eval.metrics import NONE_VERDICT
from analyzer.eval.results import RunResults
from analyzer.taxonomy import CATEGORIES, VERDICTS

# The summary rows shown first, in this order; the rest of the scalars follow.
_HEADLINE = (
    "verdict_accuracy",
    "macro_f1",
    "micro_f1",
    "signal_macro_f1",
    "evidence_hit_rate",
    "severity_accuracy",
    "ethics_recall",
    "grounding_drop_rate",
    "invalid_output_rate",
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_p50_s",
    "latency_p95_s",
)


def _fmt(value: float | None, name: str = "") -> str:
    if value is None:
        return "n/a"
    if name.endswith("_tokens"):
        return f"{value:,.0f}"
    if name == "cost_usd":
        return f"${value:.4f}"
    if name.endswith("_s"):
        return f"{value:.2f}s"
    return f"{value:.3f}"


def summary_tables(results: RunResults) -> Group:
    """The run summary: metrics (mean and spread), per-category scores, confusion matrix, thresholds."""
    m = results.meta
    parts: list[Table | Text] = []
    head = f"{m.suite}: {m.cases} cases x {m.repeat} repeat(s), backend {m.backend}"
    if m.model:
        head += f", model {m.model}"
    if m.prompt_version:
        head += f", prompt {m.prompt_version}"
    parts.append(Text(head, style="bold"))

    metrics = Table(title="Metrics (mean over repeats)", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("mean", justify="right")
    metrics.add_column("stdev", justify="right")
    metrics.add_column("min", justify="right")
    metrics.add_column("max", justify="right")
    for name in _HEADLINE:
        s = results.summary.get(name)
        if s is None:
            metrics.add_row(name, "n/a", "", "", "")
            continue
        metrics.add_row(name, _fmt(s.mean, name), _fmt(s.stdev, name), _fmt(s.min, name), _fmt(s.max, name))
    parts.append(metrics)

    if results.repeats:
        first = results.repeats[0]
        cats = Table(title="Red-flag categories" + (" (repeat 1)" if m.repeat > 1 else ""), title_justify="left")
        for col in ("category", "precision", "recall", "F1", "support", "predicted"):
            cats.add_column(col, justify="left" if col == "category" else "right")
        for cat, score in first.categories.items():
            f1 = results.summary.get(f"f1.{cat}")
            f1_text = "n/a" if f1 is None else f"{f1.mean:.3f}" + (f" ±{f1.stdev:.3f}" if m.repeat > 1 else "")
            cats.add_row(
                cat,
                f"{score.precision:.3f}",
                f"{score.recall:.3f}",
                f1_text,
                str(score.support),
                str(score.predicted),
            )
        parts.append(cats)

        conf = Table(title="Verdict confusion (rows: expected, columns: predicted; repeat 1)", title_justify="left")
        conf.add_column("expected \\ predicted")
        columns = [*VERDICTS, NONE_VERDICT]
        for col in columns:
            conf.add_column(col, justify="right")
        for row in VERDICTS:
            cells = first.confusion.get(row, {})
            conf.add_row(
                row,
                *(Text(str(cells.get(c, 0)), style="green" if c == row and cells.get(c, 0) else "") for c in columns),
            )
        parts.append(conf)

    if results.thresholds:
        th = Table(title="Thresholds", title_justify="left")
        for col in ("metric", "needs", "value", "result"):
            th.add_column(col)
        for t in results.thresholds:
            op = ">=" if t.direction == "min" else "<="
            th.add_row(
                t.metric,
                f"{op} {t.threshold}",
                _fmt(t.value, t.metric),
                Text("pass", style="green") if t.passed else Text("FAIL", style="bold red"),
            )
        parts.append(th)

    failing = [(c, r) for c in results.cases for r in c.runs if r.error is not None or case_problems(c, r)]
    if failing:
        bad = Table(title="Cases that differ from their labels", title_justify="left")
        bad.add_column("case")
        bad.add_column("repeat", justify="right")
        bad.add_column("problems")
        for c, r in failing:
            detail = f"error: {r.error}" if r.error is not None else "; ".join(case_problems(c, r))
            bad.add_row(c.id, str(r.repeat + 1), detail)
        parts.append(bad)
    return Group(*parts)


_CV_ROWS = (
    "verdict_accuracy",
    "macro_f1",
    "micro_f1",
    "ethics_recall",
    "severity_accuracy",
    "evidence_hit_rate",
    "signal_macro_f1",
)


def cross_validation_tables(cv: CrossValidation, run: str) -> list[Table]:
    """What `walkaway eval tune RUN --folds K` prints: out-of-fold beside in-sample, per category, per
    fold, per writer, and the out-of-fold verdict confusion matrix."""
    note = "" if cv.tuned else " (no per-question scores: nothing fitted, out-of-fold = as run)"
    head = Table(title=f"{run}: {cv.cases} cases, {cv.folds} folds grouped by writer{note}", title_justify="left")
    for col in ("metric", "as run", "in-sample (fit on all)", "out-of-fold", "constant verdict"):
        head.add_column(col, justify="left" if col == "metric" else "right")
    columns = (cv.as_run, cv.in_sample, cv.out_of_fold, cv.constant)
    for name in _CV_ROWS:
        head.add_row(name, *(_fmt(m.scalars().get(name)) for m in columns))
    head.add_row("ethics false walk-aways", *(str(m.ethics_false_walk_away) for m in columns[:3]), "-")
    cats = Table(title="Per category, out-of-fold", title_justify="left")
    for col in ("category", "precision", "recall", "F1", "support", "predicted", "in-sample F1"):
        cats.add_column(col, justify="left" if col == "category" else "right")
    for c in CATEGORIES:
        o, i = cv.out_of_fold.categories[c], cv.in_sample.categories[c]
        cats.add_row(c, f"{o.precision:.3f}", f"{o.recall:.3f}", _fmt(o.f1), str(o.support), str(o.predicted),
                     _fmt(i.f1))  # fmt: skip
    conf = Table(title="Verdict confusion, out-of-fold (rows: label, columns: predicted)", title_justify="left")
    conf.add_column("label")
    cols = [*VERDICTS, NONE_VERDICT]
    for v in cols:
        conf.add_column(v, justify="right")
    for v in VERDICTS:
        conf.add_row(v, *(str(cv.out_of_fold.confusion[v][p]) for p in cols))
    folds = Table(title="Per fold (held out)", title_justify="left")
    for col in ("fold", "writers", "cases", "verdict accuracy", "macro F1"):
        folds.add_column(col, justify="left" if col in ("fold", "writers") else "right")
    for f in cv.per_fold:
        folds.add_row(str(f.index), ", ".join(f.writers), str(f.cases), f"{f.verdict_accuracy:.3f}", _fmt(f.macro_f1))
    writers = Table(title="Per writer, out-of-fold verdict accuracy", title_justify="left")
    writers.add_column("writer")
    writers.add_column("verdict accuracy", justify="right")
    for w, acc in cv.per_writer.items():
        writers.add_row(w, f"{acc:.3f}")
    return [head, cats, conf, folds, writers]


def comparison_tables(cmp: Comparison) -> Group:
    """Metric deltas and per-case changes, fixes in green and regressions in red."""
    parts: list[Table | Text] = [Text(f"A: {cmp.a}\nB: {cmp.b}", style="bold")]
    t = Table(title="Metrics (mean over repeats)", title_justify="left")
    for col in ("metric", "A", "B", "B - A"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for d in cmp.metrics:
        style = "" if d.better is None else ("green" if d.better else "red")
        delta = "n/a" if d.delta is None else f"{d.delta:+.4f}".rstrip("0").rstrip(".")
        t.add_row(d.metric, _fmt(d.a, d.metric), _fmt(d.b, d.metric), Text(delta, style=style))
    parts.append(t)
    if cmp.changes:
        c = Table(title=f"Case changes: {cmp.fixes} fix(es), {cmp.regressions} regression(s)", title_justify="left")
        for col in ("case", "what", "detail", "kind"):
            c.add_column(col)
        styles = {"fix": "green", "regression": "bold red", "change": "yellow"}
        for ch in cmp.changes:
            c.add_row(ch.case_id, ch.what, ch.detail, Text(ch.kind, style=styles[ch.kind]))
        parts.append(c)
    else:
        parts.append(Text("No per-case changes."))
    if cmp.only_in_a:
        parts.append(Text("Only in A: " + ", ".join(cmp.only_in_a)))
    if cmp.only_in_b:
        parts.append(Text("Only in B: " + ", ".join(cmp.only_in_b)))
    return Group(*parts)


def print_summary(results: RunResults, console: Console) -> None:
    """Print the summary tables."""
    console.print(summary_tables(results))


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>walkaway eval: {{ r.meta.suite }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right;vertical-align:top}
th:first-child,td:first-child,td.l{text-align:left}
.pass{color:#176b2c}.fail{color:#b00020;font-weight:bold}.diag{background:#e8f5e9}
details{margin:.3rem 0;border:1px solid #ddd;padding:.3rem .6rem}
summary{cursor:pointer}blockquote{margin:.2rem 0 .2rem 1rem;color:#444;font-style:italic}
.tag{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#eee;margin-right:.3rem}
</style></head><body>
<h1>walkaway eval: {{ r.meta.suite }}</h1>
<p>{{ r.meta.cases }} cases &times; {{ r.meta.repeat }} repeat(s); backend <b>{{ r.meta.backend }}</b>
{% if r.meta.model %}, model <b>{{ r.meta.model }}</b>{% endif %}
{% if r.meta.prompt_version %}, prompt <b>{{ r.meta.prompt_version }}</b>{% endif %};
started {{ r.meta.timestamp }}; {{ "%.1f"|format(r.meta.seconds) }}s.
{% if r.thresholds %}Overall: <span class="{{ 'pass' if r.passed else 'fail' }}">{{ 'PASS' if r.passed else 'FAIL' }}</span>{% endif %}</p>

{% if r.thresholds %}<h2>Thresholds</h2>
<table><tr><th>metric</th><th>needs</th><th>value</th><th>result</th></tr>
{% for t in r.thresholds %}<tr><td>{{ t.metric }}</td><td>{{ '&ge;'|safe if t.direction == 'min' else '&le;'|safe }} {{ t.threshold }}</td>
<td>{{ fmt(t.value, t.metric) }}</td><td class="{{ 'pass' if t.passed else 'fail' }}">{{ 'pass' if t.passed else 'FAIL' }}</td></tr>{% endfor %}
</table>{% endif %}

<h2>Metrics</h2>
<table><tr><th>metric</th><th>mean</th><th>stdev</th><th>min</th><th>max</th></tr>
{% for name, s in r.summary.items() %}<tr><td>{{ name }}</td><td>{{ fmt(s.mean, name) }}</td><td>{{ fmt(s.stdev, name) }}</td>
<td>{{ fmt(s.min, name) }}</td><td>{{ fmt(s.max, name) }}</td></tr>{% endfor %}
</table>

{% for rep in r.repeats %}
<h2>Repeat {{ rep.repeat + 1 }}</h2>
<h3>Red-flag categories</h3>
<table><tr><th>category</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{% for cat, s in rep.categories.items() %}<tr><td>{{ cat }}</td><td>{{ s.tp }}</td><td>{{ s.fp }}</td><td>{{ s.fn }}</td>
<td>{{ "%.3f"|format(s.precision) }}</td><td>{{ "%.3f"|format(s.recall) }}</td><td>{{ fmt(s.f1) }}</td><td>{{ s.support }}</td></tr>{% endfor %}
<tr><td><b>macro</b></td><td colspan="5"></td><td><b>{{ fmt(rep.macro_f1) }}</b></td><td></td></tr>
</table>
{% if rep.signals %}<h3>Signals ({{ rep.signal_cases }} labelled cases)</h3>
<table><tr><th>signal</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th></tr>
{% for sig, s in rep.signals.items() %}<tr><td>{{ sig }}</td><td>{{ s.tp }}</td><td>{{ s.fp }}</td><td>{{ s.fn }}</td>
<td>{{ "%.3f"|format(s.precision) }}</td><td>{{ "%.3f"|format(s.recall) }}</td><td>{{ fmt(s.f1) }}</td></tr>{% endfor %}
</table>{% endif %}
<h3>Verdict confusion (rows expected, columns predicted)</h3>
<table><tr><th>expected \\ predicted</th>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in verdicts %}<tr><td>{{ row }}</td>{% for c in columns %}<td class="{{ 'diag' if c == row }}">{{ rep.confusion[row][c] }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% endfor %}

<h2>Cases</h2>
{% for c in r.cases %}{% for run in c.runs %}{% set problems = problems_of(c, run) %}
<details{% if problems %} open{% endif %}><summary><b>{{ c.id }}</b>{% if r.meta.repeat > 1 %} (repeat {{ run.repeat + 1 }}){% endif %}:
{% if run.error is not none %}<span class="fail">error</span>{% elif problems %}<span class="fail">{{ problems|length }} problem(s)</span>{% else %}<span class="pass">ok</span>{% endif %}
&middot; expected {{ c.expected.verdict }}, got {{ run.verdict or 'none' }} &middot; {{ "%.2f"|format(run.seconds) }}s</summary>
<p class="l">Transcript: <code>{{ c.transcript }}</code>{% if c.seller %}; seller: {{ c.seller|join(', ') }}{% endif %}</p>
{% if run.error is not none %}<p class="fail">{{ run.error_type }}: {{ run.error }}</p>{% endif %}
{% if problems %}<ul>{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
<p>Expected flags: {% for f in c.expected.flags %}<span class="tag">{{ f }}</span>{% else %}none{% endfor %}
{% if c.expected.signals is not none %}; signals: {% for s in c.expected.signals %}<span class="tag">{{ s }}</span>{% else %}none{% endfor %}{% endif %}</p>
{% if c.expected.evidence %}<p>Expected evidence: {% for e in c.expected.evidence %}<span class="tag {{ 'pass' if e in run.evidence_hits else 'fail' }}">{{ e }}</span>{% endfor %}</p>{% endif %}
{% for f in run.flags %}<div><b>{{ f.category }}</b> ({{ f.severity }}, score {{ "%.2f"|format(f.score) }}){% if f.category not in c.expected.flags %} <span class="fail">false flag</span>{% endif %}
{% for q in f.quotes %}<blockquote>[{{ f.sentence_ids[loop.index0] if loop.index0 < f.sentence_ids|length else '' }}] {{ q }}</blockquote>{% endfor %}</div>{% endfor %}
{% for s in run.signals %}<div>signal <b>{{ s.signal }}</b>{% for q in s.quotes %}<blockquote>{{ q }}</blockquote>{% endfor %}</div>{% endfor %}
<p>Tokens: {{ run.prompt_tokens }} prompt ({{ run.cached_prompt_tokens }} cached), {{ run.completion_tokens }} completion; {{ run.llm_calls }} call(s), {{ run.cache_hits }} cache hit(s); grounding: {{ run.grounding_dropped }}/{{ run.grounding_cited }} cited ids dropped.</p>
</details>{% endfor %}{% endfor %}
</body></html>
"""  # noqa: E501 (HTML template lines are easier to read unwrapped)


def report_html(results: RunResults) -> str:
    """The run as one self-contained, escaped HTML page."""
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_HTML)
    return template.render(
        r=results,
        fmt=_fmt,
        problems_of=case_problems,
        columns=[*VERDICTS, NONE_VERDICT],
        verdicts=list(VERDICTS),
    )
