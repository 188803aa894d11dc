"""Bar charts of summarised metrics with their confidence intervals (matplotlib)."""
from __future__ import annotations

import numpy as np

__all__ = ["plot_summary", "config_label"]


def config_label(model, sampler, params, show_model=True) -> str:
    """Short legend text for a configuration: "BPR + nbpo (lambda_phi=0.01)"."""
    import json
    label = f"{model.upper()} + {sampler}" if show_model else sampler
    try:
        extra = json.loads(params)
    except (TypeError, ValueError):
        extra = {}
    sampler_params = extra.get("sampler", {}) if isinstance(extra, dict) else {}
    if sampler_params:
        label += " (" + ", ".join(f"{k}={v}" for k, v in sampler_params.items()) + ")"
    return label


def plot_summary(summary, path=None, title=None):
    """Grouped bars with the 95% t interval over seeds as error bars: one
    panel per cut-off k (metrics without one, AUC and coverage, in their own
    panel), one group per metric, one bar per configuration. ``summary`` is
    the output of :func:`recsample.experiments.summarize`. Saves a PNG at
    ``path`` when given (Agg backend: no display needed) and returns the
    matplotlib Figure."""
    from .._optional import require
    matplotlib = require("matplotlib", "plot", "plot_summary")
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if summary.empty:
        raise ValueError("summary is empty: nothing to plot")
    s = summary.copy()
    s["panel"] = [None if k is None or str(k) == "<NA>" else int(k) for k in s["k"]]
    panels = sorted({p for p in s["panel"] if p is not None})
    if any(p is None for p in s["panel"]):
        panels.append(None)
    configs = list(dict.fromkeys(zip(s["model"], s["sampler"], s["params"])))
    n = len(configs)
    width = 0.8 / n
    n_metrics = max(s[s["panel"].isna() if p is None else s["panel"] == p]["metric"].nunique()
                    for p in panels)
    panel_w = max(3.2, 0.5 + n_metrics * (0.35 + 0.14 * n))
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_w * len(panels), 4.6), dpi=110,
                             sharey=True, squeeze=False)
    cmap = plt.get_cmap("tab10")
    top = float(np.nanmax(s["ci_high"].fillna(s["mean"])))
    for ax, panel in zip(axes[0], panels):
        part_p = s[s["panel"].isna()] if panel is None else s[s["panel"] == panel]
        metrics = list(dict.fromkeys(part_p["metric"]))
        x = np.arange(len(metrics))
        for i, cfg in enumerate(configs):
            part = part_p[(part_p["model"] == cfg[0]) & (part_p["sampler"] == cfg[1])
                          & (part_p["params"] == cfg[2])].set_index("metric").reindex(metrics)
            mean = part["mean"].to_numpy(float)
            err = np.nan_to_num(np.vstack([mean - part["ci_low"].to_numpy(float),
                                           part["ci_high"].to_numpy(float) - mean]), nan=0.0)
            ax.bar(x + (i - (n - 1) / 2) * width, mean, width, yerr=err, capsize=2.5,
                   label=config_label(*cfg), color=cmap(i % 10), edgecolor="black",
                   linewidth=0.4, error_kw={"elinewidth": 0.9})
        ax.set_xticks(x)
        ax.set_xticklabels([m.replace("_", " ") for m in metrics])
        ax.set_title("no cut-off" if panel is None else f"top-{panel} lists (k = {panel})",
                     fontsize="medium")
        ax.set_xlabel("metric (full ranking, training items excluded)")
        ax.grid(axis="y", linestyle=":", linewidth=0.6, alpha=0.7)
        ax.set_axisbelow(True)
    axes[0][0].set_ylabel("value, mean over seeds (0 to 1)\nerror bars: 95% CI")
    axes[0][0].set_ylim(0, min(1.0, max(0.05, top * 1.1)))
    if title is None:
        seeds = int(s["seeds"].max())
        title = f"{', '.join(dict.fromkeys(s['dataset']))}: {seeds} seed{'s' * (seeds != 1)}"
    fig.suptitle(title)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, title="model + sampler", loc="lower center",
               ncol=min(n, 4), frameon=False, fontsize="small")
    rows = (n + 3) // 4
    fig.tight_layout(rect=(0, 0.06 + 0.05 * rows, 1, 1))
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig
