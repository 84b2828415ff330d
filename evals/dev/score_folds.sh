#!/usr/bin/env bash
# Scores every development call through the real pipeline with the profile of the fold that holds it out
# (written by fold_profiles.py: cut-offs fitted on the other writers), one case at a time, writers
# interleaved; each case leaves evals/runs/RUN/<id>/results.json, so an interrupted run keeps what it finished.
# Usage: bash evals/dev/score_folds.sh PROFILE_DIR RUN
set -euo pipefail
cd "$(dirname "$0")/../.."
profiles=$1
run=$2
PYTHONPATH=evals/dev .venv/bin/python -c "
import devset
print('\n'.join(c['id'] for c in devset.cases_to_score([])))" > /tmp/walkaway-fold-order.txt
while read -r id; do
  out="evals/runs/$run/$id"
  [ -s "$out/results.json" ] && continue
  fold=$(grep -lx "$id" "$profiles"/fold*.ids | head -1)
  [ -n "$fold" ] || { echo "no fold holds $id" >&2; exit 2; }
  .venv/bin/walkaway eval evals/dev.yaml --backend local --concurrency 1 --case "$id" \
    --profile "${fold%.ids}.yaml" --out "runs/$run/$id" \
    || true  # exit 1 (a missed threshold or an errored case) still leaves a results.json to keep
  if [ -s "runs/$run/$id/results.json" ]; then
    mkdir -p "$out" && cp "runs/$run/$id/results.json" "$out/results.json"
  fi
done < /tmp/walkaway-fold-order.txt
