"""Defaults that do not betray a sampler: the search behind each sampler's
recommended BPR settings, and the check of the defaults against uniform.

Protocol. Every data set gives a training part and a test part:
movielens-small and the synthetic set are split per user 80/20 (seed 0);
nbpo-amazon is the authors' train / test files (their validation file is not
read); gowalla is the release's train.txt / test.txt. Validation is a
per-user 10% of the training part (seed 0); models fit on the other 90%.

``grid``   fits BPR with each sampler at every (learning rate, regularization)
           of a grid, on the 90% part, and records validation NDCG@10 every
           ``--every`` epochs up to ``--max-epochs`` (one thread, seed 0).
           Only training data are read. Rows are appended to a CSV, so an
           interrupted run resumes.
``derive`` reads grid CSVs and ranks, per sampler, the (learning rate,
           regularization, epochs) by their *worst* validation NDCG@10 across
           the data sets, as a fraction of that sampler's best on the same
           data set; with ``--baseline CHECK.csv`` also by the worst ratio to
           uniform at the old defaults, the rank the recommendations were
           taken from: a setting good on all, not the best on one.
``check``  fits BPR with each sampler at the old defaults (lr 0.05, reg 0.01,
           35 epochs for every sampler) and at today's defaults (the
           sampler's recommended settings where it has them) on the 90% part,
           and reports NDCG@10 on validation (the part the search chose on,
           so optimistic for the new defaults) and on test (never read by the
           search; training items excluded), each against uniform at
           defaults. The 5% rule is judged on test.
``tune``   the earlier comparison: validation NDCG@10 at old defaults against
           each sampler tuned by rs.tune (``--trials`` TPE trials).

As run for the README (2026-11-28):

    python benchmarks/studies/tune_per_sampler.py grid \
        --data movielens-small synthetic nbpo-amazon \
        --samplers uniform popularity dns nbpo --out benchmarks/results/defaults_grid.csv
    python benchmarks/studies/tune_per_sampler.py grid \
        --data movielens-small synthetic nbpo-amazon \
        --samplers warp --lrs 0.003 0.01 0.03 --regs 0.01 0.03 \
        --out benchmarks/results/defaults_grid_warp.csv
    python benchmarks/studies/tune_per_sampler.py check --which old \
        --out benchmarks/results/defaults_check.csv          # before the recommendations
    python benchmarks/studies/tune_per_sampler.py derive benchmarks/results/defaults_grid.csv \
        --baseline benchmarks/results/defaults_check.csv
    python benchmarks/studies/tune_per_sampler.py check --which new \
        --out benchmarks/results/defaults_check.csv
    python benchmarks/studies/tune_per_sampler.py table benchmarks/results/defaults_check.csv

(each ``check`` with ``--data``/``--samplers`` subsets, run as separate
processes; gowalla's diagnostic grid points: ``grid --data gowalla
--samplers uniform --lrs 0.03 --regs 0.01 0.03 --max-epochs 40 --every 10``
and ``--samplers popularity --lrs 0.03 --regs 0.03 --max-epochs 60``).

Added 2026-11-29 (the same rule; each command with ``--data movielens-small
synthetic nbpo-amazon``):

    python benchmarks/studies/tune_per_sampler.py grid --samplers aobpr importance \
        --out benchmarks/results/defaults_grid_more.csv
    python benchmarks/studies/tune_per_sampler.py grid --samplers srns \
        --out benchmarks/results/defaults_grid_srns.csv
    python benchmarks/studies/tune_per_sampler.py grid --samplers kos --lrs 0.003 0.01 0.03 \
        --regs 0.01 0.03 --out benchmarks/results/defaults_grid_kos.csv
    python benchmarks/studies/tune_per_sampler.py derive \
        benchmarks/results/defaults_grid_{more,srns,kos}.csv \
        --baseline benchmarks/results/defaults_check.csv \
        --out benchmarks/results/defaults_derive_more.txt
    python benchmarks/studies/tune_per_sampler.py check \
        --samplers aobpr srns importance kos --which new \
        --out benchmarks/results/defaults_check.csv     # and --data gowalla, incl. warp

and for BPO, ``--trainer bpo`` on every command (grids
``defaults_grid_bpo*.csv``, ``check --which old`` then ``new`` into
``defaults_check_bpo.csv``, ``derive ... --baseline
benchmarks/results/defaults_check_bpo.csv``).

The data sets under ../shared/data are skipped, with a note, when absent.
"""
import csv
import itertools
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402

SAMPLERS = ("uniform", "popularity", "dns", "nbpo", "aobpr", "warp", "kos", "srns", "importance")
DATASETS = ("movielens-small", "synthetic", "nbpo-amazon", "gowalla")
TRAINERS = {"bpr": rs.BPR, "bpo": rs.BPO}
#: the trainer defaults every sampler had before per-sampler recommendations
OLD_DEFAULTS = dict(learning_rate=0.05, regularization=0.01, epochs=35)


def load(name):
    """(train, test) of a data set, or None when its files are absent."""
    if name == "synthetic":
        data = common.load("synthetic", n_users=2000, n_items=1500, nnz=60000, alpha=1.0, seed=0)
        return rs.split.random_holdout(data, test_fraction=0.2, seed=0)
    if name != "movielens-small" and common.data_folder(name) is None:
        print(f"skipped {name}: {common.SHARED_DATA / name} not found", flush=True)
        return None
    # nbpo-amazon: its train and test files (validation left out); gowalla: (train, test)
    return common.train_test(name)


def make_sampler(name, old=False):
    # BPR + the NBPO sampler in SGD mode needs a small lambda_phi (README, NBPO);
    # recsample compare uses the same
    if name == "nbpo":
        return rs.samplers.NBPO(lambda_phi=0.01)
    return name


# ------------------------------------------------------------------ grid
def grid(args):
    out = Path(args.out)
    done = set()
    if out.exists():
        for row in csv.DictReader(out.open()):
            done.add((row["dataset"], row["sampler"], float(row["learning_rate"]),
                      float(row["regularization"])))
    new = not out.exists()
    with out.open("a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(["dataset", "sampler", "learning_rate", "regularization", "epochs",
                             "valid_ndcg@10", "seconds"])
        for name in args.data:
            parts = load(name)
            if parts is None:
                continue
            fit, valid = common.fit_valid(parts[0])
            for sampler, lr, reg in itertools.product(args.samplers, args.lrs, args.regs):
                if (name, sampler, lr, reg) in done:
                    continue
                t0 = time.perf_counter()
                model = TRAINERS[args.trainer](sampler=make_sampler(sampler), learning_rate=lr,
                               regularization=reg, epochs=args.max_epochs,
                               eval_every=args.every, n_threads=args.threads, seed=0)
                try:
                    model.fit(fit, valid=valid, progress=False)
                    curve = [(h["epoch"] + 1, h["ndcg@10"]) for h in model.history_
                             if "ndcg@10" in h]
                except FloatingPointError:
                    curve = [(e, 0.0) for e in range(args.every, args.max_epochs + 1, args.every)]
                seconds = time.perf_counter() - t0
                for epochs, value in curve:
                    writer.writerow([name, sampler, lr, reg, epochs, f"{value:.6f}",
                                     f"{seconds:.1f}"])
                fh.flush()
                best = max(curve, key=lambda c: c[1])
                print(f"{name} {sampler} lr={lr} reg={reg}: best {best[1]:.4f} at epoch "
                      f"{best[0]} ({seconds:.0f}s)", flush=True)


# ------------------------------------------------------------------ derive
def derive(args):
    frame = pd.concat([pd.read_csv(p) for p in args.grids], ignore_index=True)
    lines = []
    for sampler, part in frame.groupby("sampler", sort=False):
        table = part.pivot_table(index=["learning_rate", "regularization", "epochs"],
                                 columns="dataset", values="valid_ndcg@10")
        datasets = [d for d in DATASETS if d in table.columns]
        # a candidate counts only where every data set has a value for it
        table = table[datasets].dropna()
        rel = table / table.max()
        order = pd.DataFrame({"worst": rel.min(axis=1), "mean": rel.mean(axis=1)}).sort_values(
            ["worst", "mean"], ascending=False)
        lines.append(f"\n{sampler}: best candidates by their worst fraction of the sampler's "
                     f"best validation NDCG@10 over {', '.join(datasets)}")
        for key, row in order.head(args.show).iterrows():
            vals = " ".join(f"{d} {table.loc[key, d]:.4f}" for d in datasets)
            lines.append(f"  lr {key[0]:g}, reg {key[1]:g}, {key[2]} epochs: worst "
                         f"{row.worst:.3f}, mean {row['mean']:.3f} ({vals})")
        lines.append("  the sampler's best per data set: "
                     + " ".join(f"{d} {v:.4f}" for d, v in table.max().items()))
        if args.baseline:
            # the 5% rule's view: the worst ratio to uniform at the trainer's defaults
            check_rows = pd.read_csv(args.baseline)
            base = check_rows[(check_rows.sampler == "uniform") & (check_rows.which == "old")]
            base = base.set_index("dataset")["valid_ndcg@10"].reindex(datasets)
            ratio = table / base
            worst = ratio.min(axis=1).sort_values(ascending=False)
            lines.append("  by the worst ratio to uniform at the trainer's defaults "
                         "(validation):")
            for key, value in worst.head(args.show).items():
                vals = " ".join(f"{d} {ratio.loc[key, d]:.3f}" for d in datasets)
                lines.append(f"    lr {key[0]:g}, reg {key[1]:g}, {key[2]} epochs: worst "
                             f"{value:.3f} ({vals}); of the sampler's best: worst "
                             f"{rel.loc[key].min():.3f}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


# ------------------------------------------------------------------ check
CHECK_COLUMNS = ["dataset", "sampler", "which", "epochs", "learning_rate", "regularization",
                 "source", "valid_ndcg@10", "test_ndcg@10", "seconds"]


def check(args):
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {(r["dataset"], r["sampler"], r["which"]) for r in csv.DictReader(out.open())}
    new = not out.exists()
    with out.open("a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(CHECK_COLUMNS)
        for name in args.data:
            todo = [(s, w) for s in args.samplers for w in args.which
                    if (name, s, w) not in done]
            if not todo:
                continue
            parts = load(name)
            if parts is None:
                continue
            train, test = parts
            fit, valid = common.fit_valid(train)
            for sampler, which in todo:
                t0 = time.perf_counter()
                # "old": the trainer's defaults for every sampler, no recommendation
                extra = {} if which == "new" else \
                    OLD_DEFAULTS if args.trainer == "bpr" else dict(rs.BPO.trainer_defaults)
                model = TRAINERS[args.trainer](sampler=make_sampler(sampler), seed=0,
                                               n_threads=args.threads, **extra)
                used, sources = model.effective_params(), model.param_sources()
                source = "; ".join(sorted(set(sources.values())))
                try:
                    model.fit(fit, progress=False)
                    scores = (f"{common.mean_metric(model, valid, fit):.6f}",
                              f"{common.mean_metric(model, test, train):.6f}")
                except FloatingPointError:    # diverged: NDCG 0, as a ranking it is useless
                    source += "; diverged"
                    scores = "0", "0"
                row = [name, sampler, which, used["epochs"], used["learning_rate"],
                       used["regularization"], source, *scores,
                       f"{time.perf_counter() - t0:.0f}"]
                writer.writerow(row)
                fh.flush()
                print(*row, flush=True)


def table(args):
    frame = pd.read_csv(args.check)
    lines = ["| data set | sampler | new defaults | valid old | valid new | test old "
             "| test new | test old vs uniform | test new vs uniform | 5% rule (test) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for name in DATASETS:
        part = frame[frame.dataset == name]
        if part.empty:
            continue
        # a sampler without a recommendation runs the same configuration at the
        # old and the new defaults (one thread: the same numbers), measured once
        same = part[(part[list(OLD_DEFAULTS)] == pd.Series(OLD_DEFAULTS)).all(axis=1)]
        copies = []
        for which, other in (("new", "old"), ("old", "new")):
            have = same[same.which == which]
            lacking = have[~have.sampler.isin(part[part.which == other].sampler)]
            if other == "new":   # only where no recommendation applies today
                lacking = lacking[[not rs.BPR(sampler=make_sampler(x)).param_sources()[
                    "learning_rate"].startswith("recommended") for x in lacking.sampler]]
            copies.append(lacking.assign(which=other))
        part = pd.concat([part, *copies]).set_index(["sampler", "which"])
        base = part.loc[("uniform", "new")] if ("uniform", "new") in part.index else None
        for sampler in SAMPLERS:
            if (sampler, "new") not in part.index and (sampler, "old") not in part.index:
                continue
            def get(w, c):
                if (sampler, w) not in part.index:
                    return "not run"
                if "diverged" in part.loc[(sampler, w), "source"]:
                    return "diverged"
                return f"{part.loc[(sampler, w), c]:.4f}"
            cells = [get(w, c) for c in ("valid_ndcg@10", "test_ndcg@10")
                     for w in ("old", "new")]
            cells = [cells[0], cells[1], cells[2], cells[3]]
            settings = rel = verdict = rel_old = ""
            if (sampler, "old") in part.index and ("uniform", "old") in part.index \
                    and "diverged" not in part.loc[(sampler, "old"), "source"]:
                rel_old = (f"{part.loc[(sampler, 'old'), 'test_ndcg@10'] / part.loc[('uniform', 'old'), 'test_ndcg@10'] - 1:+.1%}")
            if (sampler, "new") in part.index:
                r = part.loc[(sampler, "new")]
                how = "recommended" if "recommended" in r.source else "trainer default"
                how += ", diverged" if "diverged" in r.source else ""
                settings = (f"lr {r.learning_rate:g}, reg {r.regularization:g}, "
                            f"{int(r.epochs)} epochs ({how})")
                if base is not None:
                    x = r["test_ndcg@10"] / base["test_ndcg@10"] - 1
                    rel = f"{x:+.1%}"
                    verdict = "pass" if x >= -0.05 else "**fail**"
            lines.append(f"| {name} | {sampler} | {settings} | " + " | ".join(cells)
                         + f" | {rel_old} | {rel} | {verdict} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


# ------------------------------------------------------------------ tune
def tune(args):
    lines = ["| data set | sampler | valid NDCG@10 at old defaults | vs uniform "
             "| tuned | chosen settings |", "|---|---|---|---|---|---|"]
    for name in args.data:
        parts = load(name)
        if parts is None:
            continue
        fit, valid = common.fit_valid(parts[0])
        base = None
        for sampler in args.samplers:
            model = rs.BPR(sampler=make_sampler(sampler), seed=0, **OLD_DEFAULTS)
            d = common.mean_metric(model.fit(fit, progress=False), valid, fit)
            base = d if sampler == "uniform" else base
            best = rs.tune("bpr", make_sampler(sampler), train=fit, valid=valid,
                           trials=args.trials, seed=0, eval_every=5, n_threads=1,
                           progress=False)
            settings = {k: v for k, v in best.settings().items() if k != "sampler"}
            lines.append(f"| {name} | {sampler} | {d:.4f} | {d / base - 1:+.1%} | "
                         f"{best.value:.4f} | {settings} |")
            print(lines[-1], flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main():
    ap = common.parser(__doc__, paragraph=True)
    sub = ap.add_subparsers(dest="command", required=True)
    for cmd in ("grid", "check", "tune"):
        p = sub.add_parser(cmd)
        p.add_argument("--data", nargs="+", default=list(DATASETS), choices=DATASETS)
        p.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--trainer", choices=sorted(TRAINERS), default="bpr",
                       help="the pair trainer (bpo: its own defaults are the 'old' ones)")
        p.add_argument("--out", default=None)
    g = sub.choices["grid"]
    g.add_argument("--lrs", type=float, nargs="+", default=[0.01, 0.03, 0.1])
    g.add_argument("--regs", type=float, nargs="+", default=[0.001, 0.01, 0.03, 0.1])
    g.add_argument("--max-epochs", type=int, default=60)
    g.add_argument("--every", type=int, default=5)
    sub.choices["tune"].add_argument("--trials", type=int, default=20)
    sub.choices["check"].add_argument("--which", nargs="+", default=["old", "new"],
                                      choices=["old", "new"])
    t = sub.add_parser("table")
    t.add_argument("check", help="the CSV written by check")
    t.add_argument("--out", default=None)
    d = sub.add_parser("derive")
    d.add_argument("grids", nargs="+")
    d.add_argument("--show", type=int, default=5)
    d.add_argument("--baseline", default=None,
                   help="check CSV: also rank by the ratio to uniform at old defaults")
    d.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.command in ("grid", "check") and not args.out:
        ap.error(f"{args.command} needs --out (a CSV it appends to)")
    {"grid": grid, "derive": derive, "check": check, "table": table,
     "tune": tune}[args.command](args)


if __name__ == "__main__":
    main()
