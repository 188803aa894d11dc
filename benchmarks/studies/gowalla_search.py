"""One row of the Gowalla validation search (docs/results/gowalla/search.md).

    python benchmarks/studies/gowalla_search.py --path DIR Softmax '{"optimizer": "adagrad", "learning_rate": 0.1}' [--every 10] [--carve-seed 0]

Trains ``rs.<MODEL>(**settings)`` on 90% of each user's items of the
release's train.txt (carving seed 0 unless ``--carve-seed`` gives another)
and prints validation recall@20 / NDCG@20 on the
other 10% every ``--every`` epochs, with the elapsed and per-epoch seconds.
test.txt is never read. Settings are the model's constructor arguments as a
JSON object; ``"sampler": "dns32"`` stands for DNS(candidates=32), and
``"sampler": {"name": "popularity", "alpha": 0.75}`` for a sampler built
from its name and parameters.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    ap.add_argument("model", help="a recsample model class: BPR, BPO, Softmax, CCL")
    ap.add_argument("settings", help="JSON object of constructor arguments")
    ap.add_argument("--path", default=None, help="folder with train.txt and test.txt "
                                                 "(default: ../shared/data/gowalla)")
    ap.add_argument("--every", type=int, default=10, help="evaluate every N epochs")
    ap.add_argument("--user-weight-power", type=float, default=0.0, metavar="A",
                    help="weight each training positive of user u by n_u^-A, n_u the "
                         "user's training positives (fit's sample_weight; 0: unweighted)")
    ap.add_argument("--carve-seed", type=int, default=0, metavar="S",
                    help="seed of the validation carving (default 0, every recorded row's)")
    args = ap.parse_args(argv)
    fit, valid = common.fit_valid(common.train_test("gowalla", args.path)[0],
                                  seed=args.carve_seed)
    settings = json.loads(args.settings)
    if settings.get("sampler") == "dns32":
        settings["sampler"] = rs.samplers.DNS(candidates=32)
    elif isinstance(settings.get("sampler"), dict):
        spec = dict(settings["sampler"])
        settings["sampler"] = rs.samplers.SAMPLERS[spec.pop("name")](**spec)
    model = getattr(rs, args.model)(**settings)

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
