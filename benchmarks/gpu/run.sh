#!/usr/bin/env bash
# DART on one GPU in at most 8 minutes, nothing downloaded: each part's figure next to its
# physical ceiling (benchmarks/gpu/figures.py), then one small `dart run` on the GPU
# (benchmarks/gpu/small_run.py: random-init Qwen2.5-0.5B-shaped target and mapper, bf16, hf
# backend, DeepSpeed) so the CUDA/NCCL/bf16 path runs end to end at least once.
#
#   bash benchmarks/gpu/run.sh                          # on the GPU machine
#   bash benchmarks/gpu/run.sh --dry-run                # CPU, tiny sizes (tested in CI)
#   bash benchmarks/gpu/run.sh --prepare-wheels DIR     # here, with PyPI: wheels for there
#   DART_WHEELS=DIR bash benchmarks/gpu/run.sh          # there: install them offline first
#
# Figures go to $DART_GPU_WORK (default: a temp folder) as figures.json and run/summary.json;
# each part is cut off (timeout) so the whole stays within 8 minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${PYTHON:-python3}"
REQUIREMENTS="$ROOT/benchmarks/gpu/requirements.txt"
MODE="${1:-}"

if [[ "$MODE" == "--prepare-wheels" ]]; then
    "$PY" -m pip download --quiet --dest "${2:?give the wheel folder}" -r "$REQUIREMENTS"
    exit 0
fi
if [[ -n "${DART_WHEELS:-}" ]]; then
    "$PY" -m pip install --quiet --no-index --find-links "$DART_WHEELS" -r "$REQUIREMENTS"
fi

WORK="${DART_GPU_WORK:-$(mktemp -d -t dart-gpu-XXXXXX)}"
mkdir -p "$WORK"
export PYTHONPATH="$ROOT/services${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
DRY=() FIGURES_S=270 RUN_S=210
# A loaded CPU is no GPU: the dry run checks the path, not the 8 minutes.
[[ "$MODE" == "--dry-run" ]] && DRY=(--dry-run) FIGURES_S=900 RUN_S=900

echo "== figures against their ceilings"
timeout "$FIGURES_S" "$PY" "$ROOT/benchmarks/gpu/figures.py" --work "$WORK/figures" \
    --json "$WORK/figures.json" "${DRY[@]}"
echo "== one small dart run"
timeout "$RUN_S" "$PY" "$ROOT/benchmarks/gpu/small_run.py" --work "$WORK/run" "${DRY[@]}"
echo "figures: $WORK/figures.json, run: $WORK/run/summary.json"
