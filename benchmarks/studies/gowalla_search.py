"""One row of the Gowalla validation search (docs/results/gowalla/search.md).

    python benchmarks/studies/gowalla_search.py --path DIR Softmax '{"optimizer": "adagrad", "learning_rate": 0.1}' [--every 10] [--carve-seed 0] [--valid-fraction 0.1]

Trains ``rs.<MODEL>(**settings)`` on 90% of each user's items of the
release's train.txt (carving seed 0 unless ``--carve-seed`` gives another;
``--valid-fraction 0.21`` carves 21%, test.txt's share, and trains on 79%)
and prints validation recall@20 / NDCG@20 on the
other 10% every ``--every`` epochs, with the elapsed and per-epoch seconds.
test.txt is never read. Settings are the model's constructor arguments as a
JSON object; ``"sampler": "dns32"`` stands for DNS(candidates=32), and
``"sampler": {"name": "popularity", "alpha": 0.75}`` for a sampler built
from its name and parameters.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    common.add_gowalla_study_args(ap, every=10)
    ap.add_argument("--user-weight-power", type=float, default=0.0, metavar="A",
                    help="weight each training positive of user u by n_u^-A, n_u the "
                         "user's training positives (fit's sample_weight; 0: unweighted)")
    args = ap.parse_args(argv)
    fit, valid, model = common.gowalla_study(ap, args)

    def report(epoch, m, record, elapsed):
        if (epoch + 1) % args.every == 0:
            s = rs.evaluate(m, valid, train=fit, k=(20,), metrics=("recall", "ndcg")).summary()
            scores = " ".join(f"{r.metric}@20={r.mean:.4f}" for r in s.itertuples())
            print(f"epoch {epoch + 1}: {elapsed:.0f} s, epoch {record['seconds']:.1f} s, "
                  f"loss {record['loss']:.4f}, {scores}", flush=True)

    weights = None
    if args.user_weight_power:
        matrix = fit.matrix if hasattr(fit, "matrix") else fit
        matrix = matrix.tocsr()
        matrix.sum_duplicates()
        counts = np.diff(matrix.indptr)
        weights = np.repeat(np.maximum(counts, 1.0) ** -args.user_weight_power, counts)
    model.fit(fit, callbacks=[report], progress=False, sample_weight=weights)


if __name__ == "__main__":
    main()
