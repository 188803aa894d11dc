"""Gowalla validation: factors pulled toward their neighbours in the training graph, or started from its spectrum.

    python benchmarks/studies/gowalla_smoothing.py --path DIR Softmax '{"sampler": "dns", "epochs": 80, "n_threads": 2}' --items 0.1 [--users 0.0] [--svd-init P] [--every 20] [--carve-seed 0]

Trains ``rs.<MODEL>(**settings)`` on the 90% carving of train.txt that
``gowalla_search.py`` uses, and after every epoch moves the factor rows in
place (the next epoch trains from the moved rows), each at its own length:

- items, with ``--items`` eta: v <- |v| normalise((1 - eta) v^ + eta (S v^)),
  v^ the unit rows, S = D_i^-1/2 X^T D_u^-1 X D_i^-1/2 (X the
  binary user x item matrix, D its degrees): one step of the symmetric
  item-item propagation of LightGCN's graph, a proximal step of a graph
  Laplacian penalty;
- users, with ``--users`` eta: u <- |u| normalise((1 - eta) u^ + eta h^),
  h the mean of the unit rows of the user's training items.

With ``--svd-init`` P the factors start from the top singular vectors of
A = D_u^-1/2 X D_i^-1/2 (users: the left ones times sigma^P, items: the right
ones times sigma^P), each row scaled to the length of the default start
(init_scale sqrt(factors)), in place of the random start.

This is a study of a training-time regulariser for matrix factorisation: the
model still scores users by the dot product of its own rows. Every
``--every`` epochs it prints validation recall@20 / NDCG@20 and the seconds
the moves took. test.txt is never read.
"""
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402
from recsample.interactions import as_csr  # noqa: E402


def unit(F):
    norms = np.maximum(np.linalg.norm(F, axis=1), 1e-12)[:, None]
    return F / norms, norms


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    common.add_gowalla_study_args(ap, every=20)
    ap.add_argument("--items", type=float, default=0.0, metavar="ETA",
                    help="the item rows' step toward their propagated rows, in [0, 1]")
    ap.add_argument("--users", type=float, default=0.0, metavar="ETA",
                    help="the user rows' step toward the mean of their items' rows, in [0, 1]")
    ap.add_argument("--svd-init", type=float, default=None, metavar="P",
                    help="start from A's top singular vectors times sigma^P")
    args = ap.parse_args(argv)
    for name in ("items", "users"):
        if not 0 <= getattr(args, name) <= 1:
            ap.error(f"--{name} must be in [0, 1], got {getattr(args, name)}")
    fit, valid, model = common.gowalla_study(ap, args)
    X = as_csr(fit, "fit").astype(np.float64)
    X.data[:] = 1.0
    du = np.maximum(np.asarray(X.sum(axis=1)).ravel(), 1.0)
    di = np.maximum(np.asarray(X.sum(axis=0)).ravel(), 1.0)
    A = (sp.diags(du ** -0.5) @ X @ sp.diags(di ** -0.5)).tocsr()
    AT = A.T.tocsr()
    mean_of_items = (sp.diags(1.0 / du) @ X).tocsr()
    k = model.factors
    if args.svd_init is not None:
        left, sigma, right = svds(A, k=k, random_state=0)
        spectral = (left * sigma ** args.svd_init, right.T * sigma ** args.svd_init)
        random_start = model._init_factors

        def spectral_start(n_users, n_items, p, rng):
            U, V = random_start(n_users, n_items, p, rng)  # keeps the bias column
            for F, S in zip((U, V), spectral):
                F[:, :k] = unit(S)[0] * p["init_scale"] * np.sqrt(k)
            return U, V
        model._init_factors = spectral_start

    def move(epoch, m, record, elapsed):
        start = time.perf_counter()
        U, V = m._user_factors, m._item_factors  # the arrays training goes on with
        if args.items:
            Vh, lengths = unit(V[:, :k].astype(np.float64))
            V[:, :k] = unit((1 - args.items) * Vh + args.items * (AT @ (A @ Vh)))[0] * lengths
        if args.users:
            Uh, lengths = unit(U[:, :k].astype(np.float64))
            h = unit(mean_of_items @ unit(V[:, :k].astype(np.float64))[0])[0]
            U[:, :k] = unit((1 - args.users) * Uh + args.users * h)[0] * lengths
        seconds = time.perf_counter() - start
        if (epoch + 1) % args.every == 0:
            s = rs.evaluate(m, valid, train=fit, k=(20,), metrics=("recall", "ndcg")).summary()
            print(f"epoch {epoch + 1}: {elapsed:.0f} s, epoch {record['seconds']:.1f} s, "
                  f"moves {seconds:.2f} s; "
                  + " ".join(f"{r.metric}@20={r.mean:.4f}" for r in s.itertuples()), flush=True)

    model.fit(fit, callbacks=[move], progress=False)


if __name__ == "__main__":
    main()
