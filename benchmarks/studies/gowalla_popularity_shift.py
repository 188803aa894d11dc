"""Gowalla: how the held-out items' popularity differs between test.txt and a
validation part carved from train.txt.

    python benchmarks/studies/gowalla_popularity_shift.py --path DIR [--carve-seeds 0 1]

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
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
from recsample.interactions import as_csr  # noqa: E402

#: bucket edges in the ranking of items by their train.txt count
EDGES = (0, 10, 100, 1000, 5000, 20000)


def item_counts(part, name, n_items):
    """Interactions per item of ``part`` (binary user x item)."""
    X = as_csr(part, name)
    return np.bincount(X.indices, minlength=n_items).astype(np.float64)


def lifts(order, held, trained):
    """Per bucket of ``order`` (items, most frequent first): the bucket's share
    of ``held`` over its share of ``trained``."""
    bounds = list(EDGES) + [len(order)]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        items = order[lo:hi]
        out.append((held[items].sum() / held.sum()) / (trained[items].sum() / trained.sum()))
    return out


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    ap.add_argument("--path", default=None, help="folder with train.txt and test.txt "
                                                 "(default: ../shared/data/gowalla)")
    ap.add_argument("--carve-seeds", type=int, nargs="+", default=[0, 1], metavar="S",
                    help="seeds of the validation carvings (default: 0 1)")
    args = ap.parse_args(argv)
    train, test = common.train_test("gowalla", args.path)
    n_items = as_csr(train, "train").shape[1]
    train_counts = item_counts(train, "train", n_items)
    order = np.argsort(-train_counts, kind="stable")
    rows = [("test.txt / train.txt", item_counts(test, "test", n_items), train_counts)]
    for seed in args.carve_seeds:
        fit, valid = common.fit_valid(train, seed=seed)
        rows.append((f"validation (seed {seed}) / its 90%", item_counts(valid, "valid", n_items),
                     item_counts(fit, "fit", n_items)))
    bounds = list(EDGES) + [n_items]
    heads = [f"{lo + 1}-{hi}" for lo, hi in zip(bounds[:-1], bounds[1:])]
    print("lift of each bucket of items (ranked by train.txt count):")
    print(f"{'held-out part':36s}" + "".join(f"{h:>13s}" for h in heads)
          + f"{'mean count':>12s}")
    for name, held, trained in rows:
        # mean count of a held-out interaction's item over that of a trained one
        mean = float((held * trained).sum() / held.sum()
                     / ((trained * trained).sum() / trained.sum()))
        print(f"{name:36s}" + "".join(f"{v:13.3f}" for v in lifts(order, held, trained))
              + f"{mean:12.3f}")


if __name__ == "__main__":
    main()
