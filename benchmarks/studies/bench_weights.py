"""What interaction weights change: binary training against ``fit(sample_weight=...)``.

    python benchmarks/studies/bench_weights.py [--seeds 0 1 2] [--models BPR Softmax]

Two data sets with graded interactions:

* movielens-small, ratings 0.5-5 (random 80/20 split per seed). Weights: the
  rating, and max(rating - 2.5, 0) (a rating of 2.5 or less trains nothing
  but stays a positive, never drawn as a negative).
* a play-count set generated here (no music data ships offline): 3,000 users
  x 4,000 items, each user's items drawn in proportion to popularity x
  exp(2 a_ui) with a_ui the product of 16-dim Gaussian taste vectors, and a
  play count 1 + Poisson(3 exp(2 a_ui)) per drawn pair, so the counts carry
  the taste beyond the pattern (random 80/20 split per seed). Weights: the
  count, and log(1 + count).

Metrics, full ranking with training items excluded: NDCG@10 over all test
items, and NDCG@10 over the "liked" test items only (rating >= 4; play count
in the top quarter of the set), the graded part a weight should help with.
Every model at its library defaults; no setting was chosen on these tests.
"""
import datetime
import platform
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def play_counts(seed=0, n_users=3000, n_items=4000, per_user=40, dim=16):
    rng = np.random.default_rng(seed)
    zu = rng.normal(0, 1 / np.sqrt(dim) ** 0.5, (n_users, dim))
    zi = rng.normal(0, 1 / np.sqrt(dim) ** 0.5, (n_items, dim))
    pop = rng.pareto(1.2, n_items) + 1.0
    rows, cols, plays = [], [], []
    for u in range(n_users):
        a = zi @ zu[u]
        p = pop * np.exp(2 * a)
        p /= p.sum()
        n = max(5, int(rng.poisson(per_user)))
        items = rng.choice(n_items, size=min(n, n_items), replace=False, p=p)
        rows.append(np.full(len(items), u))
        cols.append(items)
        plays.append(1 + rng.poisson(3 * np.exp(2 * a[items])))
    m = sp.csr_matrix((np.concatenate(plays).astype(np.float32),
                       (np.concatenate(rows), np.concatenate(cols))), shape=(n_users, n_items))
    return rs.Interactions.from_csr(m)


def _split_liked(test, threshold):
    liked = test.matrix.copy()
    liked.data = (liked.data >= threshold).astype(np.float32)
    liked.eliminate_zeros()
    return liked


def run(seeds, models):
    out = []
    ml = common.load("movielens-small")
    for name, make_data, threshold, weightings in (
            ("movielens-small ratings", lambda s: ml, 4.0,
             {"rating": lambda w: w, "rating - 2.5": lambda w: np.maximum(w - 2.5, 0.0)}),
            ("generated play counts", play_counts, None,
             {"count": lambda w: w, "log(1 + count)": np.log1p})):
        for model_name in models:
            res = {}
            for seed in seeds:
                data = make_data(seed)
                train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=seed)
                thr = threshold if threshold is not None else \
                    float(np.quantile(data.matrix.data, 0.75))
                liked = _split_liked(test, thr)
                w = train.matrix.data.astype(np.float64)
                fits = {"binary": None, **{k: f(w) for k, f in weightings.items()}}
                for label, weights in fits.items():
                    m = getattr(rs, model_name)(seed=seed).fit(train, progress=False,
                                                               sample_weight=weights)
                    res.setdefault(label, []).append((common.mean_metric(m, test, train),
                                                      common.mean_metric(m, liked, train)))
            for label, vals in res.items():
                v = np.array(vals)
                out.append((name, model_name, label, v[:, 0].mean(), v[:, 0].std(),
                            v[:, 1].mean(), v[:, 1].std()))
                print(f"| {name} | {model_name} | {label} | {v[:, 0].mean():.4f} "
                      f"± {v[:, 0].std():.4f} | {v[:, 1].mean():.4f} ± {v[:, 1].std():.4f} |",
                      flush=True)
    return out


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", default=["BPR", "Softmax"])
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()}, 2 cores; {datetime.date.today()}; "
          f"seeds {args.seeds} (mean ± std)")
    print("| data | model | weights | NDCG@10, all test items | NDCG@10, liked test items |")
    print("|---|---|---|---:|---:|")
    run(args.seeds, args.models)


if __name__ == "__main__":
    main()
