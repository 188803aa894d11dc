"""Score-time mixing of a user's row with their history (docs/results-gowalla.md).

    python benchmarks/studies/gowalla_mixing.py --path DIR '{"epochs": 60}' --gates 1 0.9 0.8 0.7 0.5

Trains ``rs.Softmax(**settings)`` (a cosine model) on 90% of each user's
items of the release's train.txt (seed 0), then scores the other 10% with
the user's unit row u replaced by

    u' = normalise(g * u + (1 - g) * normalise(mean of the unit rows of the
                                              user's training items))

and the item bias added as the model adds it. g = 1 is the model itself.
This is a proxy for SimpleX's behaviour aggregation (Mao et al., CIKM 2021),
which mixes the two during training; here the model is trained without it
and the mixing is applied only when scoring. test.txt is never read.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def _unit(X):
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(n, 1e-12)


def mixed_scorer(model, fit, g):
    """``f(user_ids) -> scores`` of the model with its user rows mixed by ``g``."""
    U, V = model.user_factors, model.item_factors
    k = U.shape[1] - (1 if model.use_bias else 0)
    items = V[:, :k].astype(np.float64)
    X = fit.matrix if hasattr(fit, "matrix") else fit
    X = X.tocsr().astype(np.float64)
    counts = np.maximum(np.asarray(X.sum(axis=1)).ravel(), 1.0)
    history = _unit((X @ items) / counts[:, None])
    mixed = _unit(g * U[:, :k].astype(np.float64) + (1.0 - g) * history).astype(np.float32)
    item_rows = V[:, :k].astype(np.float32)
    bias = V[:, k].astype(np.float32) if model.use_bias else None

    def score(user_ids):
        s = mixed[user_ids] @ item_rows.T
        return s + bias if bias is not None else s
    return score


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    ap.add_argument("settings", help="JSON object of rs.Softmax's constructor arguments")
    ap.add_argument("--path", default=None, help="folder with train.txt and test.txt "
                                                 "(default: ../shared/data/gowalla)")
    ap.add_argument("--gates", type=float, nargs="+", default=[1.0, 0.9, 0.8, 0.7, 0.5],
                    help="values of g in [0, 1]")
    args = ap.parse_args(argv)
    for g in args.gates:
        if not 0.0 <= g <= 1.0:
            ap.error(f"--gates: each g must lie in [0, 1], got {g}")
    fit, valid = common.fit_valid(common.train_test("gowalla", args.path)[0])
    model = rs.Softmax(**json.loads(args.settings))
    if model.similarity != "cosine":
        ap.error("settings: the mixing is defined for cosine models (similarity='cosine')")
    start = time.perf_counter()
    model.fit(fit, progress=False)
    print(f"fit: {time.perf_counter() - start:.0f} s", flush=True)
    for g in args.gates:
        s = rs.evaluate(mixed_scorer(model, fit, g), valid, train=fit, k=(20,),
                        metrics=("recall", "ndcg")).summary()
        scores = " ".join(f"{r.metric}@20={r.mean:.4f}" for r in s.itertuples())
        print(f"g={g:g}: {scores}", flush=True)


if __name__ == "__main__":
    main()
