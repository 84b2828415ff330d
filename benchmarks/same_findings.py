"""Whether two JSON reports of the same call hold the same findings: every flag's category, severity and
cited sentence ids, every signal and its sentence ids, and the verdict.

    .venv/bin/python benchmarks/same_findings.py REPORT_A.json REPORT_B.json

Prints ``identical`` or each difference (one per line), and the largest shift of a question's yes-score;
exits 1 when they differ. A speed change (a llama.cpp setting, a shorter answer) must leave this
identical, or be scored with ``walkaway eval``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def findings(path: Path) -> dict[str, Any]:
    """The comparable part of a report: verdict, flags and signals by name."""
    report = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, Any] = {"verdict": report["verdict"], "scores": report.get("scores") or {}}
    for flag in report["flags"]:
        out[f"flag {flag['category']}"] = (flag["severity"], sorted(e["sentence_id"] for e in flag["evidence"]))
    for sig in report["signals"]:
        out[f"signal {sig['signal']}"] = sorted(e["sentence_id"] for e in sig["evidence"])
    return out


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = (findings(Path(p)) for p in sys.argv[1:])
    sa, sb = a.pop("scores"), b.pop("scores")
    # Numerics (flash attention, a quantised KV cache) may move a yes-score without moving a finding.
    shift = max((abs(sa[k] - sb[k]) for k in set(sa) & set(sb)), default=0.0)
    diffs = [f"{k}: {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    print("\n".join(diffs) if diffs else "identical", f"(largest yes-score shift {shift:.4f})")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
