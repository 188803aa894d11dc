"""The search behind the trainers' default hyper-parameters.

Data: movielens-small, ratings as implicit feedback, split per user into
train / validation / test (70 / 10 / 20, seed 0). Every configuration trains on
train and is scored by NDCG@10 on validation (training items excluded); the
test part is never read. Epochs are chosen from the validation curve, checked
every 5 epochs.

    python benchmarks/studies/tune_defaults.py [--quick] [--out grid.csv]
"""
import itertools
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--quick", action="store_true", help="a 2x2 grid, for a smoke run")
    ap.add_argument("--out", default=None, help="write the full grid as CSV")
    args = ap.parse_args()
    data = common.load("movielens-small")
    train, valid, _test = rs.split.random_holdout(data, test_fraction=0.2, valid_fraction=0.1,
                                                  seed=0)
    lrs = [0.02, 0.05] if args.quick else [0.01, 0.03, 0.05, 0.1]
    regs = [0.002, 0.01] if args.quick else [0.0005, 0.002, 0.01, 0.03, 0.1]
    max_epochs = 20 if args.quick else 60
    rows = []
    for model_cls, lr, reg in itertools.product((rs.BPR, rs.BPO), lrs, regs):
        t0 = time.perf_counter()
        model = model_cls(factors=64, epochs=max_epochs, learning_rate=lr, regularization=reg,
                          eval_every=5, seed=0)
        model.fit(train, valid=valid, progress=False)
        for h in model.history_:
            if "ndcg@10" in h:
                rows.append({"model": model_cls.__name__, "learning_rate": lr,
                             "regularization": reg, "epochs": h["epoch"] + 1,
                             "valid_ndcg@10": h["ndcg@10"]})
        print(f"{model_cls.__name__:4s} lr={lr:<5} reg={reg:<6} best valid ndcg@10 "
              f"{model.best_score_:.4f} at epoch {model.best_epoch_ + 1} "
              f"({time.perf_counter() - t0:.1f}s)", flush=True)
    grid = pd.DataFrame(rows)
    if args.out:
        grid.to_csv(args.out, index=False)
    best = grid.loc[grid.groupby("model")["valid_ndcg@10"].idxmax()]
    print("\nbest per model (validation NDCG@10):")
    print(best.to_string(index=False))


if __name__ == "__main__":
    main()
