"""Gowalla: how the held-out items' popularity differs between test.txt and a
validation part carved from train.txt.

    python benchmarks/studies/gowalla_popularity_shift.py --path DIR [--carve-seeds 0 1]
    python benchmarks/studies/gowalla_popularity_shift.py --path DIR --bias-check 100
    python benchmarks/studies/gowalla_popularity_shift.py --path DIR --configs softmax-dns-decay=180 ...

Items are ranked by their count in train.txt and put in buckets (the 10 most
frequent, the next 90, ...). For each bucket the script prints its share of
the held-out interactions divided by its share of the interactions trained
on (the lift: 1 when the held-out part is drawn like the trained part):

- test: test.txt against train.txt;
- validation, per carving seed: the 10% per user that ``gowalla_search.py``
  and ``recsample reproduce gowalla`` carve off train.txt, against the 90%
  they train on.

It also prints how popular the item of a held-out interaction is, on
average, next to the item of a trained one: the mean count (in the part
trained on) over held-out interactions divided by the same mean over trained
interactions, 1 when the two are drawn alike. No model is
trained and no setting is chosen here: test.txt's items are only counted.

``--bias-check EPOCHS`` is a diagnostic of what the shift does to a choice:
``rs.Softmax`` at its defaults, with and without the item bias
(``use_bias``), trained for EPOCHS on the 90% of the carving of seed 0, each
scored three ways: on that carving's validation part; on a part of it
thinned to look like test.txt (each validation interaction kept with
probability lift / largest lift of its item's bucket, the lifts those of
test.txt in the table); and on test.txt itself. It reads the lifts off
test.txt, so it can say whether the shift explains a disagreement between
validation and test, and must never be used to choose a setting.
``--configs NAME=EPOCHS ...`` does the same for configurations of
``recsample reproduce gowalla`` (its thinned score the mean of
``--thin-seeds`` thinnings).
"""
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
from recsample.interactions import as_csr  # noqa: E402

#: bucket edges in the ranking of items by their train.txt count
EDGES = (0, 10, 100, 1000, 5000, 20000)


def item_counts(part, name, n_items):
    """Interactions per item of ``part`` (binary user x item)."""
    X = as_csr(part, name)
    return np.bincount(X.indices, minlength=n_items).astype(np.float64)


def bucket_of(order):
    """The bucket (index into the ``EDGES`` buckets) of every item, given
    ``order``, the items from the most frequent to the least."""
    bounds = list(EDGES) + [len(order)]
    bucket = np.empty(len(order), dtype=np.int64)
    for b, (lo, hi) in enumerate(pairwise(bounds)):
        bucket[order[lo:hi]] = b
    return bucket


def lifts(bucket, held, trained):
    """Per bucket: its share of ``held`` (interactions per item) over its
    share of ``trained``."""
    h = np.bincount(bucket, weights=held, minlength=len(EDGES))
    t = np.bincount(bucket, weights=trained, minlength=len(EDGES))
    return (h / h.sum()) / (t / t.sum())


def thinned(valid, keep, seed=0):
    """``valid`` (user x item CSR) with each interaction kept with the
    probability ``keep[item]``."""
    X = as_csr(valid, "valid").tocoo()
    mask = np.random.default_rng(seed).random(X.nnz) < keep[X.col]
    return sp.csr_matrix((X.data[mask], (X.row[mask], X.col[mask])), shape=X.shape)


def scored_three_ways(models, train, test, bucket, lift_test, thin_seeds=1, fraction=0.1):
    """Fit each of ``models`` (name -> unfitted model) on the part of
    train.txt that carving 0 keeps (``fraction`` of each user's items carved
    off as validation; 0.1 as everywhere else) and score it on that
    carving's validation part, on the part thinned like test.txt (the mean
    over ``thin_seeds`` thinnings) and on test.txt:
    name -> {part: {"recall": r, "ndcg": n}}."""
    import recsample as rs
    fit, valid = common.fit_valid(train, seed=0, fraction=fraction)
    keep = lift_test[bucket] / lift_test.max()
    parts = {"validation": [(valid, fit)],
             "validation thinned like test": [(thinned(valid, keep, seed), fit)
                                              for seed in range(thin_seeds)],
             "test.txt": [(test, train)]}
    out = {}
    for label, model in models.items():
        model.fit(fit, progress=False)
        out[label] = {}
        for part, pairs in parts.items():
            rows = [rs.evaluate(model, held, train=seen, k=(20,),
                                metrics=("recall", "ndcg")).summary() for held, seen in pairs]
            out[label][part] = {m: float(np.mean([r.loc[r.metric == m, "mean"].iloc[0]
                                                  for r in rows]))
                                for m in ("recall", "ndcg")}
    return out


def bias_check(train, test, lift_test, bucket, epochs, threads):
    """Print the three scorings of ``--bias-check`` for Softmax with and
    without its item bias."""
    import recsample as rs
    models = {use_bias: rs.Softmax(factors=64, epochs=epochs, use_bias=use_bias,
                                   n_threads=threads) for use_bias in (False, True)}
    scores = scored_three_ways(models, train, test, bucket, lift_test)
    print(f"\nSoftmax defaults, {epochs} epochs on the 90% of carving 0; "
          "recall@20 / NDCG@20 and the bias's ratio:")
    for part in scores[False]:
        off, on = scores[False][part], scores[True][part]
        print(f"  {part:30s} no bias {off['recall']:.4f} / {off['ndcg']:.4f}   "
              f"bias {on['recall']:.4f} / {on['ndcg']:.4f}   "
              f"ratio {on['recall'] / off['recall']:.3f} / {on['ndcg'] / off['ndcg']:.3f}")


def configs_check(train, test, lift_test, bucket, specs, threads, thin_seeds, fraction):
    """Print the three scorings of ``--configs``: each named configuration of
    ``recsample reproduce gowalla`` at the given epochs."""
    from recsample.reproduce.gowalla import configurations
    known = configurations()
    models = {}
    for spec in specs:
        name, _, epochs = spec.partition("=")
        if name not in known or not epochs.isdigit():
            raise SystemExit(f"--configs: expected NAME=EPOCHS with NAME one of "
                             f"{', '.join(known)}, got {spec!r}")
        cls, params = known[name]
        models[spec] = cls(**dict(params, epochs=int(epochs), n_threads=threads))
    scores = scored_three_ways(models, train, test, bucket, lift_test, thin_seeds, fraction)
    print(f"\ntrained on the rest of carving 0 ({fraction:g} of each user's items held out); "
          f"recall@20 / NDCG@20 (thinned: mean of {thin_seeds} thinnings):")
    parts = list(next(iter(scores.values())))
    print(f"  {'configuration':30s}" + "".join(f"{p:>32s}" for p in parts))
    for spec, by_part in scores.items():
        print(f"  {spec:30s}" + "".join(f"{by_part[p]['recall']:22.4f} / {by_part[p]['ndcg']:.4f}"
                                        for p in parts))


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    ap.add_argument("--path", default=None, help="folder with train.txt and test.txt "
                                                 "(default: ../shared/data/gowalla)")
    ap.add_argument("--carve-seeds", type=int, nargs="+", default=[0, 1], metavar="S",
                    help="seeds of the validation carvings (default: 0 1)")
    ap.add_argument("--bias-check", type=int, default=0, metavar="EPOCHS",
                    help="also train Softmax with and without its item bias for EPOCHS and "
                         "score both on validation, thinned validation and test (a "
                         "diagnostic, see above)")
    ap.add_argument("--configs", nargs="+", default=[], metavar="NAME=EPOCHS",
                    help="also train these configurations of `recsample reproduce gowalla` "
                         "for EPOCHS each and score them as --bias-check does (a diagnostic)")
    ap.add_argument("--thin-seeds", type=int, default=5, metavar="N",
                    help="thinnings averaged by --configs (default 5)")
    ap.add_argument("--valid-fraction", type=float, default=0.1, metavar="F",
                    help="share of each user's items that --configs carves off as validation "
                         "(default 0.1, as the searches do)")
    ap.add_argument("--threads", type=int, default=2, help="training threads (default 2)")
    args = ap.parse_args(argv)
    train, test = common.train_test("gowalla", args.path)
    n_items = as_csr(train, "train").shape[1]
    train_counts = item_counts(train, "train", n_items)
    bucket = bucket_of(np.argsort(-train_counts, kind="stable"))
    rows = [("test.txt / train.txt", item_counts(test, "test", n_items), train_counts)]
    for seed in args.carve_seeds:
        fit, valid = common.fit_valid(train, seed=seed)
        rows.append((f"validation (seed {seed}) / its 90%", item_counts(valid, "valid", n_items),
                     item_counts(fit, "fit", n_items)))
    bounds = list(EDGES) + [n_items]
    heads = [f"{lo + 1}-{hi}" for lo, hi in pairwise(bounds)]
    print("lift of each bucket of items (ranked by train.txt count):")
    print(f"{'held-out part':36s}" + "".join(f"{h:>13s}" for h in heads)
          + f"{'mean count':>12s}")
    for name, held, trained in rows:
        # mean count of a held-out interaction's item over that of a trained one
        mean = float((held * trained).sum() / held.sum()
                     / ((trained * trained).sum() / trained.sum()))
        print(f"{name:36s}" + "".join(f"{v:13.3f}" for v in lifts(bucket, held, trained))
              + f"{mean:12.3f}")
    if args.bias_check:
        bias_check(train, test, lifts(bucket, rows[0][1], rows[0][2]), bucket,
                   args.bias_check, args.threads)
    if args.configs:
        configs_check(train, test, lifts(bucket, rows[0][1], rows[0][2]), bucket,
                      args.configs, args.threads, args.thin_seeds, args.valid_fraction)


if __name__ == "__main__":
    main()
