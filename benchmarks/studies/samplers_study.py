"""Every sampler with BPR, each tuned with the same budget, tested over seeds.

    python benchmarks/studies/samplers_study.py --dataset movielens-small --trials 40 \
        --max-epochs 40 --eval-every 2 --patience 6
    python benchmarks/studies/samplers_study.py --dataset gowalla --path ../shared/data/gowalla \
        --trials 6 --max-epochs 24 --eval-every 4 --patience 8 [--samplers "uniform|dns (N=16)"]
    python benchmarks/studies/samplers_study.py --report     # table, paired tests and plot

(The commands behind docs/samplers-study.md; two gowalla processes with
disjoint ``--samplers`` lists share the work, each starting with uniform.)

Protocol, the same for every sampler of ``common.samplers()`` (k-OS included):

1. one train/test split: movielens-small a per-user 80/20 random holdout
   (seed 0), gowalla its published train/test files;
2. ``rs.tune("bpr", sampler, train=train, trials=T, max_epochs=E, ...)``: a
   per-user 10% of train is carved off as validation (seed 0) and T Optuna
   trials (TPE seeded 0, random for its first 10 trials, median pruner)
   search BPR's learning rate and regularisation and the sampler's declared
   parameters, each trial trained up to E epochs with early stopping on
   validation NDCG@10; the test part is never read. WARP and k-OS search
   learning rates ten times smaller than the others (``WEIGHTED_LR``): their
   pair weights L(rank estimate) reach about 10;
3. the winner (its settings and best epoch count) is refitted on the whole
   train with model seeds 0, 1, 2 and scored on test (NDCG@10, recall@20,
   full ranking, training items excluded).

Against uniform sampling: the mean difference over the seeds with the paired
t-test over the 3 seeds (little power, and said so), and the paired t-test
over test users of the per-user values averaged over the seeds.

Every (dataset, sampler) writes its own files under ``--out`` as it finishes,
so an interrupted study resumes, and ``--report`` reads whatever is there.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402
from recsample.search_space import LogUniform  # noqa: E402

#: the samplers of the cost benchmark (peers/bench_samplers.py), k-OS among them
STUDY_SAMPLERS = common.samplers()
#: WARP and k-OS multiply each pair's step by L(rank estimate), about 10 at the
#: top of a ranking, so their learning-rate range is BPR's (0.005-0.3) moved
#: down by that factor: the same width, the same number of trials.
WEIGHTED_LR = LogUniform(0.0005, 0.03)
WEIGHTED = ("warp", "kos (K=10, k=5)")
METRICS = (("ndcg", 10), ("recall", 20))


def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def run_one(dataset, name, make, train, test, args, folder):
    stem = folder / slug(name)
    sampler = make()
    # DNS(M, N) keeps its N: the declared range of candidates reaches below M
    space = {"sampler.candidates": sampler.candidates} if name.startswith("dns(M") else {}
    if name in WEIGHTED:
        space["learning_rate"] = WEIGHTED_LR
    done = stem.with_suffix(".json")
    if done.is_file():
        before = json.loads(done.read_text())
        same = all(before.get(key) == value for key, value in (
            ("space", {k: repr(v) for k, v in space.items()}), ("trials", args.trials),
            ("max_epochs", args.max_epochs), ("factors", args.factors)))
        if same:
            print(f"{dataset} {name}: done already", flush=True)
            return
        print(f"{dataset} {name}: {done} was made with other settings; running again",
              flush=True)
    t0 = time.perf_counter()
    result = rs.tune("bpr", sampler, train=train, trials=args.trials, metric="ndcg@10", seed=0,
                     space=space or None,
                     max_epochs=args.max_epochs, patience=args.patience,
                     eval_every=args.eval_every, params={"factors": args.factors},
                     n_threads=args.threads, progress=False)
    tune_seconds = time.perf_counter() - t0
    per_user, rows = {}, []
    for seed in range(args.seeds):
        t1 = time.perf_counter()
        model = result.make_model(seed=seed, n_threads=args.threads).fit(train, progress=False)
        report = rs.evaluate(model, test, train=train, k=(10, 20), metrics=("ndcg", "recall"))
        row = {"seed": seed, "fit_seconds": time.perf_counter() - t1}
        for m, k in METRICS:
            per_user[f"{m}@{k}/{seed}"] = report.per_user[(m, k)]
            row[f"{m}@{k}"] = float(np.mean(report.per_user[(m, k)]))
        per_user["users"] = report.users
        rows.append(row)
    np.savez(stem.with_suffix(".npz"), **per_user)
    info = {"dataset": dataset, "sampler": name, "settings": result.settings(),
            "valid_ndcg@10": result.value, "trials": args.trials,
            "trials_finished": int((result.trials["state"] == "complete").sum()),
            "trials_pruned": int((result.trials["state"] == "pruned").sum()),
            "space": {k: repr(v) for k, v in space.items()},
            "max_epochs": args.max_epochs, "patience": args.patience,
            "eval_every": args.eval_every, "factors": args.factors, "threads": args.threads,
            "tune_seconds": tune_seconds, "seeds": rows}
    stem.with_suffix(".json").write_text(json.dumps(info, indent=1, default=str))
    print(f"{dataset} {name}: valid NDCG@10 {result.value:.4f}, test NDCG@10 "
          f"{np.mean([r['ndcg@10'] for r in rows]):.4f}, tune {tune_seconds:.0f} s, "
          f"refits {sum(r['fit_seconds'] for r in rows):.0f} s", flush=True)


def report(out):
    tables = []
    for folder in sorted(p for p in Path(out).iterdir() if p.is_dir()):
        infos = {json.loads(f.read_text())["sampler"]: json.loads(f.read_text())
                 for f in folder.glob("*.json")}
        if "uniform" not in infos:
            continue
        base = np.load(folder / f"{slug('uniform')}.npz")
        for name, info in infos.items():
            cur = np.load(folder / f"{slug(name)}.npz")
            s = info["settings"]
            row = {"dataset": info["dataset"], "sampler": name,
                   "lr": s.get("learning_rate"), "reg": s.get("regularization"),
                   "epochs": s.get("epochs"),
                   "sampler settings": {k: v for k, v in s.get("sampler", {}).items()
                                        if k != "name"},
                   "valid ndcg@10": info["valid_ndcg@10"],
                   "tune s": info["tune_seconds"],
                   "fit s": np.mean([r["fit_seconds"] for r in info["seeds"]])}
            seeds = len(info["seeds"])
            for m, k in METRICS:
                key = f"{m}@{k}"
                a = np.array([r[key] for r in info["seeds"]])
                b = np.array([np.mean(base[f"{key}/{s_}"]) for s_ in range(seeds)])
                row[key] = a.mean()
                row[f"{key} sd"] = a.std(ddof=1) if seeds > 1 else np.nan
                if name == "uniform":
                    continue
                row[f"{key} - uniform"] = (a - b).mean()
                row[f"{key} p seeds"] = stats.ttest_rel(a, b).pvalue if seeds > 1 else np.nan
                ua = np.mean([cur[f"{key}/{s_}"] for s_ in range(seeds)], axis=0)
                ub = np.mean([base[f"{key}/{s_}"] for s_ in range(seeds)], axis=0)
                row[f"{key} p users"] = stats.ttest_rel(ua, ub).pvalue
            tables.append(row)
    df = pd.DataFrame(tables)
    df.to_csv(Path(out) / "results.csv", index=False)
    return df


def markdown(df):
    """The study's table: per data set and sampler, chosen settings, test means
    over the seeds, differences to uniform and both paired p-values."""
    def f(v, fmt):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        return "<1e-300" if v == 0 and "g" in fmt and "+" not in fmt else format(v, fmt)
    lines = ["| data | sampler | lr | reg | epochs | NDCG@10 | - uniform | p seeds | p users "
             "| recall@20 | - uniform | p seeds | p users | tune s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, r in df.sort_values(["dataset", "ndcg@10"], ascending=[False, False]).iterrows():
        cells = [r["dataset"], r["sampler"], f(r["lr"], ".3g"), f(r["reg"], ".2g"),
                 f(r["epochs"], ".0f")]
        for key in ("ndcg@10", "recall@20"):
            cells += [f(r[key], ".4f"), f(r.get(f"{key} - uniform"), "+.4f"),
                      f(r.get(f"{key} p seeds"), ".2g"), f(r.get(f"{key} p users"), ".2g")]
        cells.append(f(r["tune s"], ".0f"))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def plot(df, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    datasets = list(dict.fromkeys(df["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 5), squeeze=False)
    for ax, d in zip(axes[0], datasets):
        sub = df[df["dataset"] == d].sort_values("ndcg@10")
        y = np.arange(len(sub))
        ax.barh(y, sub["ndcg@10"], xerr=sub["ndcg@10 sd"], height=0.4, color="tab:blue",
                alpha=0.8, label="NDCG@10")
        ax.barh(y + 0.4, sub["recall@20"], xerr=sub["recall@20 sd"], height=0.4,
                color="tab:orange", alpha=0.8, label="recall@20")
        ax.set_yticks(y + 0.2)
        ax.set_yticklabels(sub["sampler"])
        u = df[(df["dataset"] == d) & (df["sampler"] == "uniform")]["ndcg@10"].iloc[0]
        ax.axvline(u, color="k", lw=0.8, ls="--")
        ax.set_title(f"{d}: BPR, tuned alike (mean, sd over seeds)")
        ax.set_xlabel("test value (dashed: uniform's NDCG@10)")
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = common.parser(__doc__)
    common.add_dataset_args(ap)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--max-epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--eval-every", type=int, default=3)
    ap.add_argument("--factors", type=int, default=32)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samplers", default=None, help="names of the table, separated by |")
    ap.add_argument("--out", default="docs/results/samplers-study")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    if args.report:
        df = report(args.out)
        plot(df, Path(args.out) / "study.png")
        md = markdown(df)
        (Path(args.out) / "table.md").write_text(md)
        print(md)
        return
    names = list(STUDY_SAMPLERS) if args.samplers is None else \
        [s.strip() for s in args.samplers.split("|")]
    folder = Path(args.out) / args.dataset
    folder.mkdir(parents=True, exist_ok=True)
    train, test = common.train_test(args.dataset, args.path)
    start = time.perf_counter()
    for name in ["uniform"] + [n for n in names if n != "uniform"]:
        run_one(args.dataset, name, STUDY_SAMPLERS[name], train, test, args, folder)
    print(f"{args.dataset}: {time.perf_counter() - start:.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
