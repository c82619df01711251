#!/usr/bin/env bash
# Install hiper with the given extras (default: webshop,babyai,train,alfworld,ray,langchain,dev) on a CPU machine.
# torch is pinned to the CPU build first so that no extra pulls a multi-GB CUDA wheel.
set -euo pipefail
extras="${1:-webshop,babyai,train,alfworld,ray,langchain,dev}"
python="${PYTHON:-python3}"
cd "$(dirname "$0")/.."
"$python" -m pip install -q --disable-pip-version-check "torch==2.13.0" -e ".[${extras}]"
