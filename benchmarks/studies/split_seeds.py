"""Settings of one model compared over several random splits.

    python benchmarks/studies/split_seeds.py Softmax '{}' '{"use_bias": false, "epochs": 50}' \\
        --data movielens-small --split-seeds 0 1 2 3 4 --threads 1

For each split seed s, the data set is cut by a per-user random 80/20
holdout with seed s (seed 0 is the test part every other study here uses),
every setting is trained on the 80% and scored on the 20% (NDCG@10, full
ranking, training items excluded). With ``--validation`` the test part is
never read: the 80% of seed 0 is cut again, 90/10 per user with seed s,
and the settings are scored on those validation parts. One split is one
draw of the users' held-out items: this shows how much of a difference
between settings is the split's. Prints each split's scores and each
setting's ratio to the first, and over the splits the mean ratio and a
paired t-test of the NDCG differences. With ``--model-seeds`` the test
split stays fixed and the seeds are the models'.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    ap.add_argument("model", help="a recsample model class: BPR, BPO, Softmax, CCL")
    ap.add_argument("settings", nargs="+",
                    help="JSON objects of constructor arguments; the first is the reference")
    ap.add_argument("--data", default="movielens-small",
                    choices=["movielens-small", "nbpo-amazon", "synthetic"],
                    help="a data set without a published split (nbpo-amazon: its "
                         "training file, resplit; synthetic: the clustered set of "
                         "defaults_vs_popularity.py)")
    ap.add_argument("--path", default=None, help="folder of the data set when it needs one")
    ap.add_argument("--split-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--validation", action="store_true",
                    help="split seed 0's training part 90/10 instead (test never read)")
    ap.add_argument("--model-seeds", action="store_true",
                    help="keep one test split (seed 0's; nbpo-amazon's published test "
                         "file) and use each seed as the models' seed instead")
    ap.add_argument("--out", default=None, help="CSV of the rows")
    args = ap.parse_args(argv)
    if len(args.split_seeds) < 2:
        ap.error("--split-seeds: give at least two seeds")
    if len(args.settings) < 2:
        ap.error("settings: give at least two, the first being the reference")
    settings = [json.loads(x) for x in args.settings]
    if args.data == "synthetic":
        data = rs.datasets.synthetic(2000, 1500, 60000, alpha=1.0, seed=0, clusters=10,
                                     affinity=0.8)
    else:
        data = common.first_part(args.data, args.path if args.data == "nbpo-amazon" else None)
    if args.validation and args.model_seeds:
        ap.error("--validation and --model-seeds: choose one")
    if args.validation:
        data = rs.split.random_holdout(data, test_fraction=0.2, seed=0)[0]
    fraction = 0.1 if args.validation else 0.2
    if args.model_seeds:
        fixed = (common.train_test("nbpo-amazon", args.path) if args.data == "nbpo-amazon"
                 else rs.split.random_holdout(data, test_fraction=0.2, seed=0))
    rows = []
    for s in args.split_seeds:
        if args.model_seeds:
            train, held = fixed
        else:
            train, held = rs.split.random_holdout(data, test_fraction=fraction, seed=s)
        scores = []
        for n, kwargs in enumerate(settings):
            model_seed = {"seed": s} if args.model_seeds else {}
            model = getattr(rs, args.model)(**{"n_threads": args.threads, **model_seed,
                                               **kwargs})
            start = time.perf_counter()
            model.fit(train, progress=False)
            seconds = time.perf_counter() - start
            summary = rs.evaluate(model, held, train=train, k=(10,), metrics=("ndcg",)).summary()
            scores.append(float(summary["mean"].iloc[0]))
            rows.append({"seed": s, "varied": "model" if args.model_seeds else "split",
                         "part": "validation" if args.validation else "test",
                         "setting": n, "arguments": json.dumps(kwargs),
                         "ndcg@10": scores[-1], "seconds": seconds})
        print(f"split {s}: " + "  ".join(f"[{n}] {v:.4f} ({v / scores[0]:.3f})"
                                         for n, v in enumerate(scores)), flush=True)
    ref = np.array([r["ndcg@10"] for r in rows if r["setting"] == 0])
    for n in range(1, len(settings)):
        x = np.array([r["ndcg@10"] for r in rows if r["setting"] == n])
        t = stats.ttest_rel(x, ref)
        print(f"[{n}] {args.settings[n]}: mean {x.mean():.4f} against {ref.mean():.4f}; "
              f"ratio mean {np.mean(x / ref):.3f} (min {np.min(x / ref):.3f}, max "
              f"{np.max(x / ref):.3f}); above on {int(np.sum(x > ref))} of {len(x)} splits; "
              f"paired t {t.statistic:.2f}, p {t.pvalue:.3f}")
    if args.out:
        import pandas as pd
        pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
