"""Gowalla validation: a model's own factors against running averages of them, in one run.

    python benchmarks/studies/gowalla_averaging.py --path DIR Softmax '{"sampler": "dns", "epochs": 200, "n_threads": 2}' [--every 20] [--decays 0.5 0.8 0.9 0.95] [--swa-from 100 140] [--carve-seed 0]

Trains ``rs.<MODEL>(**settings)`` on the 90% carving of train.txt that
``gowalla_search.py`` uses (seed 0 unless ``--carve-seed``), and after every
epoch updates, from the model's factors:

- an exponential moving average per ``--decays`` d: A <- d A + (1 - d) F;
- a uniform average of every epoch after each ``--swa-from`` epoch E.

With cosine similarity each row is averaged at unit length (the item bias, in
the last column, as it is). Every ``--every`` epochs the model's own factors
and each average are scored on the same validation part (recall@20 / NDCG@20),
so the comparison is paired: one training run, one set of draws. test.txt is
never read, except with ``--test``.

One such average is a library option, ``average_decay`` (the model then
scores, validates and saves the average); this script keeps several,
uniform ones too, beside the model's own factors in one run.

With ``--test`` (settings, decays and epochs chosen on validation first) the
model trains on the whole of train.txt and only its last epoch is scored,
own factors and averages alike, on test.txt:

    python benchmarks/studies/gowalla_averaging.py --path DIR Softmax '{"sampler": "dns", "epochs": 180, "n_threads": 2, "seed": 0}' --decays 0.9 --test
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    common.add_gowalla_study_args(ap, every=20)
    ap.add_argument("--decays", type=float, nargs="*", default=[0.5, 0.8, 0.9, 0.95],
                    metavar="D", help="per-epoch decays of the moving averages, each in (0, 1)")
    ap.add_argument("--swa-from", type=int, nargs="*", default=[], metavar="E",
                    help="uniform averages of the epochs after E")
    ap.add_argument("--test", action="store_true",
                    help="train on the whole of train.txt and score the last epoch on test.txt")
    args = ap.parse_args(argv)
    for d in args.decays:
        if not 0 < d < 1:
            ap.error(f"--decays must each be in (0, 1), got {d}")
    fit, valid, model = common.gowalla_study(ap, args, test=args.test)
    last = model.epochs
    if args.test and not isinstance(last, int):
        ap.error(f"--test needs the settings' epochs as a number, got {last!r}")
    averages = {}  # name -> [users, items, count]

    def rows(F):
        # what the model scores with: unit rows under cosine, the bias column kept
        F = F.astype(np.float64)
        if getattr(model, "similarity", "dot") == "cosine":
            k = model.factors
            F[:, :k] /= np.maximum(np.linalg.norm(F[:, :k], axis=1), 1e-12)[:, None]
        return F

    def score(U, V):
        f = common.Factors(rows(U).astype(np.float32), rows(V).astype(np.float32))
        s = rs.evaluate(f, valid, train=fit, k=(20,), metrics=("recall", "ndcg")).summary()
        return " / ".join(f"{r.mean:.4f}" for r in s.itertuples())

    def update(epoch, m, record, elapsed):
        U, V = rows(m._user_factors), rows(m._item_factors)
        for d in args.decays:
            a = averages.setdefault(f"ema {d}", [U.copy(), V.copy(), 0])
            if a[2]:
                a[0] *= d
                a[0] += (1 - d) * U
                a[1] *= d
                a[1] += (1 - d) * V
            a[2] += 1
        for e in args.swa_from:
            if epoch + 1 > e:
                a = averages.setdefault(f"swa from {e}", [U.copy(), V.copy(), 0])
                a[2] += 1
                if a[2] > 1:
                    a[0] += (U - a[0]) / a[2]
                    a[1] += (V - a[1]) / a[2]
        if (epoch + 1 == last) if args.test else ((epoch + 1) % args.every == 0):
            start = time.perf_counter()
            parts = [f"own {score(U, V)}"]
            parts += [f"{name} {score(a[0], a[1])}" for name, a in averages.items()]
            trained = sum(r["seconds"] for r in m.history_)
            print(f"{'test' if args.test else 'validation'}, "
                  f"epoch {epoch + 1}: {elapsed:.0f} s ({trained:.0f} s training), epoch {record['seconds']:.1f} s; "
                  + "; ".join(parts) + f" (scored in {time.perf_counter() - start:.0f} s)",
                  flush=True)

    model.fit(fit, callbacks=[update], progress=False)


if __name__ == "__main__":
    main()
