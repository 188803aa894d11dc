"""The commands' text output: aligned columns, ``compare``'s results table,
its paired tests against the first configuration, the settings each run
used and the plot's title."""
from __future__ import annotations


def aligned_columns(frame, right=()) -> str:
    """A header line and one line per row of ``frame``, columns two spaces
    apart, those named in ``right`` aligned right."""
    cols = list(frame.columns)
    widths = {c: max(len(c), *(len(str(v)) for v in frame[c])) for c in cols}

    def line(values):
        return "  ".join(str(v).rjust(widths[c]) if c in right else str(v).ljust(widths[c])
                         for c, v in zip(cols, values)).rstrip()

    return "\n".join([line(cols), *(line(row) for row in frame.itertuples(index=False))])


def config_name(model, sampler) -> str:
    return model if sampler in ("-", "", None) else f"{model}+{sampler}"


def format_table(summary, settings=None, chosen=None) -> str:
    """Metric@k rows x configuration columns, cells "mean ± CI half-width",
    the best mean of each row marked with *; the configurations' full
    parameters are listed below the table, and with ``chosen`` (the tuned
    runner's settings frame) the settings each seed's tuning picked."""
    s = summary.copy()
    s["what"] = [m if str(k) == "<NA>" else f"{m}@{k}" for m, k in zip(s["metric"], s["k"])]
    whats = list(dict.fromkeys(s["what"]))
    idents = list(dict.fromkeys(zip(s["model"], s["sampler"], s["params"])))
    names = {}
    for ident in idents:
        name = config_name(ident[0], ident[1])
        while name in names.values():
            name += "'"
        names[ident] = name
    s["config"] = [names[i] for i in zip(s["model"], s["sampler"], s["params"])]
    cols = [names[i] for i in idents]
    cells = {}
    for w in whats:
        part = s[s["what"] == w]
        best = part["mean"].max()
        for row in part.itertuples(index=False):
            half = row.ci_high - row.mean
            text = f"{row.mean:.4f} ± {half:.4f}" if half == half else f"{row.mean:.4f}"
            cells[w, row.config] = text + ("*" if row.mean == best else " ")
    seconds = s.groupby("config", sort=False)["fit_seconds"].mean()
    for c in cols:
        cells["fit seconds", c] = f"{seconds[c]:.1f} "
    rows = whats + ["fit seconds"]
    first = max(len(r) for r in rows)
    width = {c: max(len(c) + 1, *(len(cells.get((r, c), "")) for r in rows)) for c in cols}
    lines = []
    if settings is not None:
        seeds = int(s["seeds"].max())
        lines.append(f"{settings['dataset']}: mean ± 95% CI half-width over {seeds} seed"
                     f"{'s' * (seeds != 1)} (per-user random holdout, test fraction "
                     f"{settings['test_fraction']:g}); * = best per row")
    header = "".ljust(first) + "  " + "  ".join(c.rjust(width[c] - 1) + " " for c in cols)
    lines += [header.rstrip(), "-" * len(header.rstrip())]
    for r in rows:
        if r == "fit seconds":
            lines.append("-" * len(header.rstrip()))
        lines.append((r.ljust(first) + "  " + "  ".join(
            cells.get((r, c), "").rjust(width[c]) for c in cols)).rstrip())
    lines.append("")
    lines += _params_lines(idents, names, chosen)
    return "\n".join(lines)


def _params_lines(idents, names, chosen) -> list:
    """Each configuration's parameters, and with ``chosen`` the settings its
    tuning picked per seed."""
    if chosen:
        import pandas as pd
        chosen = pd.DataFrame(chosen)
    lines = []
    for i in idents:
        what = i[0].upper() if i[1] in ("-", "") else f"{i[0].upper()} + {i[1]}"
        lines.append(f"{names[i]}: {what}, params {i[2]}")
        if chosen is not None and len(chosen):
            mine = chosen[(chosen["model"] == i[0]) & (chosen["sampler"] == i[1])
                          & (chosen["params"] == i[2])]
            for row in mine.sort_values("seed").itertuples(index=False):
                if row.settings in ("{}", ""):
                    continue          # nothing tuned, nothing beyond params to show
                valid = "" if row.valid_value != row.valid_value else \
                    f" (validation {row.valid_value:.4f}, {row.trials_finished} trials)"
                lines.append(f"    seed {row.seed}: {row.settings}{valid}")
    return lines


def paired_lines(df, settings) -> str:
    """Each configuration against the first, paired by seed, on the first
    metric and cut-off: mean difference, paired t-test and Wilcoxon p-values."""
    from ..experiments import paired_tests
    idents = list(dict.fromkeys(zip(df["model"], df["sampler"], df["params"])))
    if len(idents) < 2 or df["seed"].nunique() < 2:
        return ""
    metric, k = settings["metrics"][0], settings["k"][0]
    ref = idents[0]
    lines = [f"\npaired over seeds against {config_name(*ref[:2])} ({metric}@{k}): "
             "difference, t-test p, Wilcoxon p"]
    for ident in idents[1:]:
        which = dict(zip(("model", "sampler", "params"), ident))
        res = paired_tests(df, which, dict(zip(("model", "sampler", "params"), ref)))
        row = res[(res["metric"] == metric) & (res["k"] == k)]
        if row.empty:
            continue
        r = row.iloc[0]
        lines.append(f"  {config_name(*ident[:2]):<18} {r['diff']:+.4f}  "
                     f"t p={r['t_pvalue']:.3g}  Wilcoxon p={r['wilcoxon_pvalue']:.3g}")
    return "\n".join(lines)


def defaults_used(configs) -> str:
    """Which epochs, learning rate and regularization each configuration
    trained with when the command line left them unset, and why (the
    sampler's recommendation or the trainer's default)."""
    from .. import registry
    lines = ["settings not given, as used:"]
    for c in configs:
        model = registry.load("model", c["model"])(sampler=c["sampler"], **c["params"])
        values, sources = model.effective_params(), model.param_sources()
        unset = [k for k, src in sources.items() if src != "set"]
        if not unset:
            continue
        parts = []
        for src in dict.fromkeys(sources[k] for k in unset):
            names = ", ".join(f"{k} {values[k]:g}" for k in unset if sources[k] == src)
            parts.append(f"{names} ({src})")
        lines.append(f"  {config_name(c['model'], c['sampler'].name)}: " + "; ".join(parts))
    return "\n".join(lines) if len(lines) > 1 else ""


def plot_title(settings, summary) -> str:
    seeds = int(summary["seeds"].max())
    models = "/".join(m.upper() for m in settings["models"])
    return (f"{settings['dataset']}: {models} with {len(settings['samplers'])} samplers, "
            f"{seeds} seed{'s' * (seeds != 1)} (mean ± 95% CI)")
