"""Agreement between each call's writer and its independent second reader (Cohen's kappa).

Run: ``python evals/dev/agreement.py`` (writes ``evals/dev/agreement.md`` and ``evals/dev/disagreements.yaml``).

- per flag: for every call and category, present/absent as labelled by the writer vs the reader;
- per severity: over the flags both labelled present, the severity (low/medium/high);
- per verdict: the four verdicts;
- per signal: present/absent, over the six signals.

Kappa = (p_o - p_e) / (1 - p_e) with p_e from each labeller's own marginals. ``disagreements.yaml`` lists
every call where the verdict, a flag's presence or a flag's severity differ; ``adjudicated.yaml`` records
how each was settled (the labels ``render.py`` uses).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CATEGORIES = ("fit", "budget", "authority", "ethics", "engagement", "relationship", "tire_kicker")
SIGNALS = (
    "need_confirmed", "budget_confirmed", "decision_maker_engaged", "timeline_defined", "next_step_agreed",
    "prospect_declined",
)  # fmt: skip


def kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def load() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    pairs = []
    for labels in sorted((HERE / "src").glob("w*/labels.yaml")):
        w = labels.parent.name
        reader_file = HERE / "readers" / f"{w}.yaml"
        if not reader_file.exists():
            continue
        reader = {r["file"]: r for r in yaml.safe_load(reader_file.read_text(encoding="utf-8"))}
        for entry in yaml.safe_load(labels.read_text(encoding="utf-8")):
            r = reader.get(entry["file"])
            if r is None:
                continue
            pairs.append((f"{w}-{Path(entry['file']).stem}", entry["expected"], r))
    return pairs


def main() -> None:
    pairs = load()
    fw, fr, sw, sr, vw, vr, gw, gr = [], [], [], [], [], [], [], []
    per_cat: dict[str, tuple[list[bool], list[bool]]] = {c: ([], []) for c in CATEGORIES}
    disagreements = []
    for cid, wexp, rexp in pairs:
        wf, rf = dict(wexp.get("flags") or {}), dict(rexp.get("flags") or {})
        for c in CATEGORIES:
            fw.append(c in wf)
            fr.append(c in rf)
            per_cat[c][0].append(c in wf)
            per_cat[c][1].append(c in rf)
            if c in wf and c in rf:
                sw.append(wf[c])
                sr.append(rf[c])
        vw.append(wexp["verdict"])
        vr.append(rexp["verdict"])
        ws, rs = set(wexp.get("signals") or []), set(rexp.get("signals") or [])
        for s in SIGNALS:
            gw.append(s in ws)
            gr.append(s in rs)
        diffs = []
        if wexp["verdict"] != rexp["verdict"]:
            diffs.append(f"verdict: writer {wexp['verdict']}, reader {rexp['verdict']}")
        for c in CATEGORIES:
            if (c in wf) != (c in rf):
                diffs.append(f"{c}: writer {wf.get(c, 'absent')}, reader {rf.get(c, 'absent')}")
            elif c in wf and wf[c] != rf[c]:
                diffs.append(f"{c} severity: writer {wf[c]}, reader {rf[c]}")
        if diffs:
            disagreements.append({"id": cid, "differences": diffs, "reader_note": rexp.get("note", "")})
    n = len(pairs)
    rows = [
        (
            "flag present/absent (calls x 7 categories)",
            len(fw),
            kappa(fw, fr),
            sum(a == b for a, b in zip(fw, fr, strict=True)),
        ),
        (
            "flag severity (flags both labelled)",
            len(sw),
            kappa(sw, sr),
            sum(a == b for a, b in zip(sw, sr, strict=True)),
        ),
        ("verdict", len(vw), kappa(vw, vr), sum(a == b for a, b in zip(vw, vr, strict=True))),
        (
            "signal present/absent (calls x 6 signals)",
            len(gw),
            kappa(gw, gr),
            sum(a == b for a, b in zip(gw, gr, strict=True)),
        ),
    ]
    lines = [
        "# Writer vs second reader: agreement on the development set",
        "",
        f"{n} calls, each labelled by its writer and, independently, by a second reader who saw only the",
        "transcript, the seller hint and the labelling guide (`python evals/dev/agreement.py`).",
        "",
        "| what | items | agreement | Cohen's kappa |",
        "|---|---:|---:|---:|",
    ]
    for name, items, k, same in rows:
        lines.append(f"| {name} | {items} | {same / items:.3f} | {'n/a' if k is None else f'{k:.3f}'} |")
    lines += [
        "",
        "Per category (present/absent):",
        "",
        "| category | writer | reader | kappa |",
        "|---|---:|---:|---:|",
    ]
    for c, (a, b) in per_cat.items():
        k = kappa(a, b)
        lines.append(f"| {c} | {sum(a)} | {sum(b)} | {'n/a' if k is None else f'{k:.3f}'} |")
    lines += ["", f"{len(disagreements)} calls with at least one difference (listed in `disagreements.yaml`).", ""]
    (HERE / "agreement.md").write_text("\n".join(lines), encoding="utf-8")
    (HERE / "disagreements.yaml").write_text(
        yaml.safe_dump(disagreements, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
