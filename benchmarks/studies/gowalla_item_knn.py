"""Gowalla validation of an item-KNN scorer: s_u = x_u D^-1/2 X^T X D^-1/2.

    python benchmarks/studies/gowalla_item_knn.py --path DIR [--carve-seed 0]

X is the binary user x item matrix of the 90% carving of train.txt that
``gowalla_search.py`` uses, D its item degrees: each item scores by its
cosine-normalised co-occurrence with the user's training items. Prints
validation recall@20 / NDCG@20 on the other 10%. test.txt is never read.
"""
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402
from recsample.interactions import as_csr  # noqa: E402


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    ap.add_argument("--path", default=None, help="folder with train.txt and test.txt "
                                                 "(default: ../shared/data/gowalla)")
    ap.add_argument("--carve-seed", type=int, default=0, metavar="S",
                    help="seed of the validation carving (default 0)")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    fit, valid = common.fit_valid(common.train_test("gowalla", args.path)[0],
                                  seed=args.carve_seed)
    X = as_csr(fit, "fit").astype(np.float32)
    X.data[:] = 1.0
    degrees = np.maximum(np.asarray(X.sum(axis=0)).ravel(), 1.0)
    XD = (X @ sp.diags((degrees ** -0.5).astype(np.float32))).tocsr()
    XT = X.T.tocsr()

    def scores(users):
        return ((XD[np.asarray(users)] @ XT) @ XD).toarray()

    s = rs.evaluate(scores, valid, train=fit, k=(20,), metrics=("recall", "ndcg")).summary()
    print(" ".join(f"{r.metric}@20={r.mean:.4f}" for r in s.itertuples()),
          f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
