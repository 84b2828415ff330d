#!/usr/bin/env bash
# Turns the windows answers recorded by score_windows.py into one eval run, evals/runs/dev-windows/results.json,
# by running `walkaway eval --strategy windows` over the recorded cases: every answer comes from the response
# cache (the run's llm_calls equal its cache_hits), so this costs seconds, not model time.
set -euo pipefail
cd "$(dirname "$0")/../.."
args=()
for f in evals/runs/dev-windows-raw/*.json; do
  args+=(--case "$(basename "$f" .json)")
done
.venv/bin/walkaway eval evals/dev.yaml --backend local --strategy windows --concurrency 1 "${args[@]}" \
  --out evals/runs/dev-windows >/dev/null || true  # exit 1 = thresholds missed; results.json is what we keep
.venv/bin/python - <<'PY'
import json
d = json.load(open("evals/runs/dev-windows/results.json"))
runs = [c["runs"][0] for c in d["cases"]]
calls, hits = sum(r["llm_calls"] for r in runs), sum(r["cache_hits"] for r in runs)
print(f"{len(runs)} cases replayed; {hits} of {calls} answers from the cache")
PY
