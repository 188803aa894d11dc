"""What NBPO's flip model learns: does sigma(gamma), or the posterior, rank
hidden positives above true negatives among a user's unvoted items?

    python benchmarks/studies/flip_model_study.py [--seed 0] [--out docs/results/flip-model]

Synthetic data with a known answer (``rs.datasets.hidden_positives``): 400
users x 300 items, each user's true
positives are the top 10% of a rank-4 preference (plus Gumbel noise), and each
true positive is hidden from training with probability h_ui. Three hiding
mechanisms:

- ``uniform``: h = 0.3 for every pair (the flip rate carries no information,
  so the best any flip-rate score can do is AUC 0.5);
- ``exposure r2 / r1``: h_ui = sigma(s * A_u . B_i / sqrt(r) - 1) with a rank-r
  Gaussian "exposure" A, B independent of the preference (s = 3), so hiding
  is more likely where exposure is low, which is the situation the flip model
  is meant for.

For each, among all (user, item) pairs that are not training positives, the
label is "hidden positive" and the scores are the fitted model's
``flip_probability`` (sigma(gamma)) and ``hidden_positive_probability`` (the
posterior sigma(x) sigma(gamma) / (1 - sigma(x) + sigma(x) sigma(gamma))).
``oracle`` is the AUC of the true h: the best a flip-rate score can reach.
AUC is the Mann-Whitney statistic (0.5 = no separation, below 0.5 = ranked
the wrong way round). One seed per row; the SGD rows train Hogwild on all
cores, so they move by about 0.002 between runs; the script prints a Markdown table and
writes it with a CSV when ``--out`` is given.
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def hidden_positive_data(mechanism, seed=0):
    if mechanism == "uniform":
        return rs.datasets.hidden_positives(hiding="uniform", hide=0.3, seed=seed)
    r = {"exposure r1": 1, "exposure r2": 2}[mechanism]
    return rs.datasets.hidden_positives(hiding="exposure", exposure_rank=r, seed=seed)


def auc(score, label):
    return float(mannwhitneyu(score[label], score[~label]).statistic
                 / (label.sum() * (~label).sum()))


def models():
    nbpo = rs.samplers.NBPO
    return {
        "NBPO, paper defaults (K1 50, lambda_phi 5, batch)": lambda: rs.NBPO(epochs=60),
        "NBPO, batch, lambda_phi 0.5": lambda: rs.NBPO(
            epochs=60, sampler=nbpo(flip_factors=50, lambda_phi=0.5)),
        "NBPO, batch, K1 1, lambda_phi 5": lambda: rs.NBPO(
            epochs=60, sampler=nbpo(flip_factors=1, lambda_phi=5.0)),
        "NBPO, batch, lambda_phi 15": lambda: rs.NBPO(
            epochs=60, sampler=nbpo(flip_factors=50, lambda_phi=15.0)),
        "BPO + NBPO sampler, SGD, lambda_phi 0.01": lambda: rs.BPO(
            factors=16, epochs=40, sampler=nbpo(lambda_phi=0.01)),
        "BPR + NBPO sampler, SGD, lambda_phi 0.01": lambda: rs.BPR(
            factors=16, epochs=40, negatives=2, sampler=nbpo(lambda_phi=0.01)),
    }


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="folder for table.md and auc.csv")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    for mechanism in ("uniform", "exposure r2", "exposure r1"):
        train, hidden, h = hidden_positive_data(mechanism, seed=args.seed)
        users, items = np.nonzero(train.toarray() == 0)
        label = hidden[users, items]
        share = hidden.sum() / (hidden.sum() + train.nnz)
        for name, make in models().items():
            model = make().fit(train, progress=False)
            rows.append({
                "hiding": mechanism, "hidden share": round(float(share), 3),
                "oracle AUC (true h)": auc(h[users, items], label), "model": name,
                "AUC sigma(gamma)": auc(model.flip_probability(users, items), label),
                "AUC posterior": auc(model.hidden_positive_probability(users, items), label)})
            r = rows[-1]
            print(f"{mechanism:12s} {name:45s} sigma(gamma) {r['AUC sigma(gamma)']:.3f}  "
                  f"posterior {r['AUC posterior']:.3f}  (oracle {r['oracle AUC (true h)']:.3f})",
                  flush=True)
    df = pd.DataFrame(rows)
    table = df.to_markdown(index=False, floatfmt=".3f") if _has_tabulate() else df.to_string()
    print()
    print(table)
    print(f"\n{time.perf_counter() - t0:.0f} s, seed {args.seed}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        df.to_csv(os.path.join(args.out, "auc.csv"), index=False)
        with open(os.path.join(args.out, "table.md"), "w") as f:
            f.write(f"`python benchmarks/studies/flip_model_study.py --seed {args.seed}`\n\n"
                    f"{table}\n")


def _has_tabulate():
    try:
        import tabulate  # noqa: F401  (pandas.to_markdown needs it)
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
