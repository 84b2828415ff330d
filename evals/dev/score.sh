#!/usr/bin/env bash
# Scores the development set with the model, one case at a time: each case leaves its own results.json in
# evals/runs/RUN/<id>/ (RUN is dev-BACKEND by default), so an interrupted session keeps every case it
# finished (the response cache makes a restart resume inside a case). Cases interleave the writers (each
# writer's 1st call, then each one's 2nd...) so a partial run is balanced.
# Usage: bash evals/dev/score.sh [BACKEND] [PROFILE_DIR RUN]
# With PROFILE_DIR (written by fold_profiles.py), each call is scored with the profile of the fold that holds
# its writer out (PROFILE_DIR/foldK.yaml for the id listed in PROFILE_DIR/foldK.ids): cut-offs fitted on the
# other writers only.
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:-local}
profiles=${2:-}
run=${3:-dev-$backend}
PYTHONPATH=evals/dev .venv/bin/python -c "
import devset
print('\n'.join(c['id'] for c in devset.cases_to_score([])))" > /tmp/walkaway-dev-order.txt
while read -r id; do
  out="evals/runs/$run/$id"
  [ -s "$out/results.json" ] && continue
  profile=()
  if [ -n "$profiles" ]; then
    fold=$(grep -lx "$id" "$profiles"/fold*.ids | head -1) || true
    [ -n "$fold" ] || { echo "no fold in $profiles holds $id" >&2; exit 2; }
    profile=(--profile "${fold%.ids}.yaml")
  fi
  .venv/bin/walkaway eval evals/dev.yaml --backend "$backend" --concurrency 1 --case "$id" "${profile[@]}" \
    --out "runs/$run/$id" \
    || true  # exit 1 (a missed threshold or an errored case) still leaves a results.json to keep
  if [ -s "runs/$run/$id/results.json" ]; then
    mkdir -p "$out" && cp "runs/$run/$id/results.json" "$out/results.json"
  fi
done < /tmp/walkaway-dev-order.txt
