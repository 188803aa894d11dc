"""Do today's defaults betray a sampler? Validation NDCG@10 of BPR with each
sampler at the trainer's defaults, against the same sampler tuned by rs.tune.

For every data set the training data only are used: movielens-small and the
synthetic set are split per user 80/20 (seed 0) and the 20% is set aside
unread; of nbpo-amazon only the authors' training file is read. Validation is
a per-user 10% of that training part (seed 0), the same for defaults and
tuning. A sampler is flagged when, at defaults, it falls more than 5% below
uniform at defaults. Gowalla is included with --gowalla (large).

    python benchmarks/tune_per_sampler.py [--trials 20] [--out benchmarks/results/tune_per_sampler.md]

The data sets under ../shared/data are skipped, with a note, when absent.
"""
import argparse
import time
from pathlib import Path

import recsample as rs

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLERS = ("uniform", "popularity", "dns", "nbpo")


def datasets(with_gowalla):
    data = rs.load_dataset("movielens-small")
    yield "movielens-small", rs.split.random_holdout(data, test_fraction=0.2, seed=0)[0]
    synth = rs.datasets.synthetic(2000, 1500, 60000, alpha=1.0, seed=0)
    yield "synthetic (2000 x 1500, 60k, alpha 1)", \
        rs.split.random_holdout(synth, test_fraction=0.2, seed=0)[0]
    for name, flag in (("nbpo-amazon", True), ("gowalla", with_gowalla)):
        path = SHARED / name
        if not flag:
            continue
        if not path.is_dir():
            print(f"skipped {name}: {path} not found")
            continue
        yield name, rs.load_dataset(name, path=str(path))[0]   # the training file only


def at_defaults(sampler, fit, valid):
    if sampler == "nbpo":   # its SGD setting, as recsample compare uses it
        sampler = rs.samplers.NBPO(lambda_phi=0.01)
    model = rs.BPR(sampler=sampler, seed=0).fit(fit, progress=False)
    report = rs.evaluate(model, valid, train=fit, k=10, metrics=("ndcg",))
    return float(report.summary()["mean"].iloc[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--gowalla", action="store_true")
    ap.add_argument("--out", default=None, help="write the table as Markdown")
    args = ap.parse_args()
    lines = ["| data set | sampler | valid NDCG@10 at defaults | vs uniform at defaults "
             "| tuned | chosen settings |", "|---|---|---|---|---|---|"]
    for name, train in datasets(args.gowalla):
        fit, valid = rs.split.random_holdout(train, test_fraction=0.1, seed=0)
        base = None
        for sampler in SAMPLERS:
            t0 = time.perf_counter()
            d = at_defaults(sampler, fit, valid)
            base = d if sampler == "uniform" else base
            best = rs.tune("bpr", sampler, train=fit, valid=valid, trials=args.trials, seed=0,
                           eval_every=5, n_threads=1, progress=False)
            rel = d / base - 1
            flag = " **(> 5% below)**" if rel < -0.05 else ""
            settings = {k: v for k, v in best.settings().items() if k != "sampler"}
            extra = {k: v for k, v in best.settings()["sampler"].items()
                     if k != "name" and v is not None}
            line = (f"| {name} | {sampler} | {d:.4f} | {rel:+.1%}{flag} | {best.value:.4f} | "
                    f"{settings} {extra or ''} |")
            lines.append(line)
            print(line, f"({time.perf_counter() - t0:.0f}s)", flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
