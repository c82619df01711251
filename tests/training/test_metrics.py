"""The run log: metrics.jsonl is strict JSON, curves draw shares on [0, 1]."""

from __future__ import annotations

import json

from training.metrics import MetricsLog


def test_nan_metrics_are_written_as_null(tmp_path):
    log = MetricsLog(tmp_path)
    log.log({"iteration": 1, "logprob_mismatch": float("nan"), "kl": 0.5})
    log.close()
    row = json.loads((tmp_path / "metrics.jsonl").read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert row == {"iteration": 1, "logprob_mismatch": None, "kl": 0.5}


def test_curves_put_success_on_zero_to_one_with_the_held_out_interval(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    saved = []
    monkeypatch.setattr(plt.Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    log = MetricsLog(tmp_path)
    for it, success in ((1, 0.09), (2, 0.095)):
        log.log({"iteration": it, "success": success, "kl": 0.01})
    log.log({"iteration": 2, "eval/success": 0.095, "eval/success_low": 0.06, "eval/success_high": 0.14,
             "phase": "after_rl"})
    log.plot()
    success_ax = next(ax for ax in saved[0].axes if ax.get_title() == "success")
    assert success_ax.get_ylim() == (0.0, 1.0)
    labels = [t.get_text() for t in success_ax.get_legend().get_texts()]
    assert len(labels) == len(set(labels)) == 2
