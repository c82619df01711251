"""A tiny random-weight checkpoint (tokenizer trained offline on turn-format text), built once per test process."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from hiper_agents.turn import render_turn

CORPUS = [
    "Tools you can call (one per action):",
    "check_stock[apple] add_to_cart[item=apple, quantity=2] checkout finish[bought 2 apple]",
    "apple: 5 in stock at $0.50 each",
    "Hello, how are you? I am fine. Write me two haikus.",
    render_turn("SWITCH", "check the apple stock", "check_stock[apple]"),
    render_turn("KEEP", "check the apple stock", "add_to_cart[item=apple, quantity=2]"),
] * 4


@functools.cache
def tiny_checkpoint() -> str:
    """The path of a saved tiny Qwen2 model and tokenizer (random weights, seed 0)."""
    from hiper_agents.tiny import build_tiny_model, build_tiny_tokenizer, save_tiny

    directory = Path(tempfile.mkdtemp(prefix="hiper-lc-tiny-"))
    atexit.register(shutil.rmtree, directory, True)
    tokenizer = build_tiny_tokenizer(CORPUS, vocab_size=500)
    model = build_tiny_model(tokenizer, hidden=32, layers=1, heads=2, kv_heads=1, seed=0)
    return str(save_tiny(directory / "tiny", model, tokenizer))
