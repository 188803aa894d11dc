"""Gowalla validation: a DirectAU-style uniformity step between the epochs of a cosine model.

    python benchmarks/studies/gowalla_uniformity.py --path DIR Softmax '{"sampler": "dns", "epochs": 80, "n_threads": 2}' --every 20 --step 0.5 [--batch 2048] [--steps 20]

DirectAU (Wang et al., KDD 2022) trains alignment (a positive pair's unit
rows close) and uniformity (the unit rows of a batch's users, and of its
items, spread over the sphere), the latter as
log mean_{a != b} exp(-2 |x_a - x_b|^2) over the batch. The sampled softmax
of the training loop already aligns each positive and pushes its user's row
from the negatives; it has no term between two items or two users. This
study adds one, outside the loop: after every epoch, ``--steps`` batches of
``--batch`` training interactions drawn uniformly (so users and items come
as often as they interact, as in DirectAU's batches), and for each the
distinct items' unit rows, then the distinct users', take a gradient step of
angular size ``--step`` on that uniformity term (half each, as DirectAU
averages the two). A row keeps its length; the item bias is left alone.

The epoch's loop and the steps alternate rather than share a gradient, so
this is DirectAU's uniformity added to the softmax, not DirectAU's loss.
Validation is the 10% carving of train.txt (seed 0) that gowalla_search.py
uses; test.txt is never read. ``--step 0`` is the model alone, scored the
same way.
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def uniformity_step(F, rows, k, step):
    """One step of log mean_{a != b} exp(-2 |x_a - x_b|^2) over the unit rows
    of ``F[rows, :k]`` (``rows`` distinct), each row moved on its sphere by
    ``step`` times its derivative and put back at its length. Returns the
    term's value before the step."""
    R = F[rows, :k].astype(np.float64)
    length = np.maximum(np.linalg.norm(R, axis=1, keepdims=True), 1e-12)
    X = R / length
    # |x_a - x_b|^2 = 2 - 2 x_a.x_b for unit rows
    E = np.exp(4.0 * (X @ X.T) - 4.0)
    np.fill_diagonal(E, 0.0)
    Z = E.sum()
    n = len(rows)
    value = np.log(Z / (n * (n - 1)))
    # d/dx_a of log sum_{a != b} E_ab: each pair twice, dE_ab/dx_a = 4 x_b E_ab
    G = 8.0 * (E @ X) / Z
    G -= np.sum(G * X, axis=1, keepdims=True) * X   # along the sphere
    X = X - step * n * G / 8.0   # step * n / 8: a step's size apart from the batch's
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    F[rows, :k] = (X * length).astype(F.dtype)
    return value


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    common.add_gowalla_study_args(ap, every=20)
    ap.add_argument("--step", type=float, required=True,
                    help="angular step size of the uniformity term (0: the model alone)")
    ap.add_argument("--batch", type=int, default=2048, help="interactions per batch")
    ap.add_argument("--steps", type=int, default=20, help="batches after each epoch")
    args = ap.parse_args(argv)
    if args.step < 0 or args.batch < 2 or args.steps < 1:
        ap.error("--step must be >= 0, --batch >= 2 and --steps >= 1")
    fit, valid, model = common.gowalla_study(ap, args)
    if getattr(model, "similarity", "dot") != "cosine":
        ap.error("the uniformity term is taken over unit rows: the model must use cosine similarity")
    X = fit.matrix if hasattr(fit, "matrix") else fit
    X = X.tocoo()
    users, items = X.row.astype(np.int64), X.col.astype(np.int64)
    rng = np.random.default_rng(1)
    k = model.factors

    def update(epoch, m, record, elapsed):
        start = time.perf_counter()
        values = []
        if args.step > 0:
            for _ in range(args.steps):
                pick = rng.integers(0, len(users), args.batch)
                values.append(uniformity_step(m._item_factors, np.unique(items[pick]), k,
                                              args.step / 2))
                values.append(uniformity_step(m._user_factors, np.unique(users[pick]), k,
                                              args.step / 2))
        spent = time.perf_counter() - start
        if (epoch + 1) % args.every == 0:
            # the model's public factors: unit rows under cosine, the bias column kept
            f = common.Factors(m.user_factors, m.item_factors)
            s = rs.evaluate(f, valid, train=fit, k=(20,), metrics=("recall", "ndcg")).summary()
            scores = " / ".join(f"{r.mean:.4f}" for r in s.itertuples())
            unif = (f", uniformity items {np.mean(values[0::2]):.3f} users {np.mean(values[1::2]):.3f}"
                    if values else "")
            print(f"epoch {epoch + 1}: {elapsed:.0f} s, epoch {record['seconds']:.1f} s "
                  f"+ {spent:.1f} s of uniformity steps{unif}; validation recall@20 / NDCG@20 "
                  f"{scores}", flush=True)

    model.fit(fit, callbacks=[update], progress=False)


if __name__ == "__main__":
    main()
