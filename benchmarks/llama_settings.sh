#!/usr/bin/env bash
# llama.cpp load settings tried on this machine (issue 14): each configuration runs benchmarks/local.py on one
# call with the cache off, then benchmarks/same_findings.py compares its report with the first
# configuration's. Usage: bash benchmarks/llama_settings.sh [CALL] (default: the ~800-word dev call w2-13).
# Never run it beside another model job: the 2 cores are the measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
call=${1:-evals/dev/calls/w2-13-tri-county-electric-siem.txt}
out=$(mktemp -d)
py=.venv/bin/python
configs=(
  "base|"
  "threads=2|"
  "threads=2 n_ubatch=256|--llama n_ubatch=256"
  "threads=2 n_batch=n_ubatch=1024|--llama n_batch=1024 --llama n_ubatch=1024"
  "threads=2 flash_attn|--llama flash_attn=true"
  "threads=2 flash_attn q8_0 KV cache|--llama flash_attn=true --llama type_k=8 --llama type_v=8"
  "threads=2 use_mlock|--llama use_mlock=true"
)
i=0
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  opts=${entry#*|}
  threads=""
  [[ $name == threads=2* ]] && threads=2
  echo "== $name"
  # shellcheck disable=SC2086  # opts is a list of words on purpose
  env ${threads:+WALKAWAY_LOCAL_THREADS=$threads} $py benchmarks/local.py --reports "$out/$i" $opts "$call" | tail -n 1
  report=$(ls "$out/$i"/*.json)
  if (( i > 0 )); then
    $py benchmarks/same_findings.py "$(ls "$out"/0/*.json)" "$report" || true
  fi
  i=$((i + 1))
done
rm -rf "$out"
