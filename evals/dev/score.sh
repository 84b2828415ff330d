#!/usr/bin/env bash
# Scores the development set with the embedded model, one case at a time: each case leaves its own
# results.json in evals/runs/dev-local/<id>/, so an interrupted session keeps every case it finished (the
# response cache makes a restart resume inside a case). Cases interleave the writers (each writer's 1st
# call, then each one's 2nd...) so a partial run is balanced. Usage: bash evals/dev/score.sh [BACKEND]
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:-local}
PYTHONPATH=evals/dev .venv/bin/python -c "
import devset
print('\n'.join(c['id'] for c in devset.cases_to_score([])))" > /tmp/walkaway-dev-order.txt
while read -r id; do
  out="evals/runs/dev-$backend/$id"
  [ -s "$out/results.json" ] && continue
  .venv/bin/walkaway eval evals/dev.yaml --backend "$backend" --concurrency 1 --case "$id" --out "runs/dev-$backend/$id" \
    || true  # exit 1 (a missed threshold or an errored case) still leaves a results.json to keep
  if [ -s "runs/dev-$backend/$id/results.json" ]; then
    mkdir -p "$out" && cp "runs/dev-$backend/$id/results.json" "$out/results.json"
  fi
done < /tmp/walkaway-dev-order.txt
