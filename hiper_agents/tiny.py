"""Tiny offline models: a BPE tokenizer trained on environment text and a small Qwen2 causal LM from a config.

Nothing here touches the network. The tokenizer is byte-level BPE (any string encodes, no unknown token) with
Qwen-style chat tokens (`<|im_start|>`, `<|im_end|>`, `<|endoftext|>`, special) and the six turn tags as added,
non-special tokens: they are never split or merged with neighbours and are kept by `decode(skip_special_tokens=True)`,
so token boundaries fall exactly at tag boundaries (the trainer's per-block token spans rely on it).
Load a saved tokenizer with `PreTrainedTokenizerFast.from_pretrained` (or `load_tokenizer`), never `AutoTokenizer`:
for `qwen2` models AutoTokenizer swaps in Qwen's pre-tokenizer and gives other ids (docs/agents.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hiper_agents.prompts import corpus_text
from hiper_agents.turn import BLOCKS

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
TAG_TOKENS = tuple(tag for name in BLOCKS for tag in (f"<{name}>", f"</{name}>"))
TINY_MARKER = "hiper_tiny.json"
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
)


def _strip_tags(text: str) -> str:
    for tag in TAG_TOKENS:
        text = text.replace(tag, " ")
    return text


def build_tiny_tokenizer(texts: Iterable[str], vocab_size: int = 2048, min_frequency: int = 2) -> Any:
    """Train a byte-level BPE tokenizer on `texts` plus the prompt wording; returns a `PreTrainedTokenizerFast`."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    # Tags become added tokens below; keep them out of BPE training so no merge spans a tag boundary.
    corpus = [_strip_tags(text) for text in (*corpus_text(), *texts)]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.add_tokens([AddedToken(tag, normalized=False, special=False) for tag in TAG_TOKENS])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        clean_up_tokenization_spaces=False,
        model_max_length=32768,
    )
    fast.padding_side = "left"
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(
    tokenizer: Any,
    hidden: int = 128,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate: int | None = None,
    max_positions: int = 4096,
    seed: int = 0,
    init_std: float | None = None,
) -> Any:
    """A randomly initialised Qwen2ForCausalLM sized to the tokenizer (tied embeddings, fp32).

    Weights are drawn with std `init_std`, by default hidden**-0.5 (0.125 at hidden 64, 0.088 at 128), not the
    0.02 of large models: at 0.02 a model this narrow starts with near-uniform attention and stays on that plateau
    for hundreds of steps (measured: hidden 64 could not copy a colour from its prompt in 1,500 SFT steps, at chance
    on every colour token; with hidden**-0.5 it fits the same data in 50).
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate or 4 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        initializer_range=init_std if init_std is not None else hidden**-0.5,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    return model.eval()


def save_tiny(directory: str | Path, model: Any, tokenizer: Any) -> Path:
    """Save model and tokenizer with `save_pretrained`, plus a marker telling `load_tokenizer` how to load it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    marker = {"tokenizer_class": "PreTrainedTokenizerFast", "note": "load with PreTrainedTokenizerFast, not AutoTokenizer"}
    (directory / TINY_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    return directory


def load_tokenizer(path: str | Path) -> Any:
    """Load a tokenizer: `PreTrainedTokenizerFast` for tiny checkpoints (marker file), else `AutoTokenizer`."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    path = Path(path)
    if (path / TINY_MARKER).exists():
        tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    else:
        tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    return tokenizer


def load_tiny(directory: str | Path) -> tuple[Any, Any]:
    """Load a checkpoint written by `save_tiny`: (Qwen2ForCausalLM in eval mode, tokenizer)."""
    from transformers import Qwen2ForCausalLM

    return Qwen2ForCausalLM.from_pretrained(directory).eval(), load_tokenizer(directory)


def tag_token_ids(tokenizer: Any) -> dict[str, int]:
    """The id of each turn tag; raises when a tag is not a single token."""
    ids = {}
    for tag in TAG_TOKENS:
        encoded = tokenizer(tag, add_special_tokens=False)["input_ids"]
        if len(encoded) != 1:
            raise ValueError(f"tag {tag!r} is {len(encoded)} tokens in this tokenizer, expected 1")
        ids[tag] = encoded[0]
    return ids
