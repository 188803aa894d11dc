"""What the benchmark scripts share: paths, data loading, timing and arguments.

Every script in ``peers/``, ``ab/`` and ``studies/`` begins with

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
    import common

so that ``python benchmarks/<kind>/<script>.py`` finds this module. Importing
it also appends the repository root to the *end* of ``sys.path``: a checkout
without ``pip install`` still finds ``recsample``, while a copy named by
``PYTHONPATH`` (the A/B tools' way of timing another checkout) or an installed
one comes first. No script imports another; what two of them need is here.

Data are loaded only through ``rs.load_dataset(name, path=...)``. The data
sets that do not ship (gowalla, nbpo-amazon) are looked for in
``../shared/data/<name>`` beside the repository unless a path is given.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
#: the recorded results (``docs/benchmark-results`` is a link to this folder)
RESULTS = BENCHMARKS / "results"
#: where the data sets that do not ship are kept beside the repository
SHARED_DATA = REPO.parent / "shared" / "data"
GOWALLA = SHARED_DATA / "gowalla"

if str(REPO) not in sys.path:
    sys.path.append(str(REPO))


def samplers():
    """The samplers compared by the cost benchmark (peers/bench_samplers.py),
    the A/B tool of one sampler (ab/bench_sampler_versions.py) and the quality
    study (studies/samplers_study.py), name -> constructor: one table, so that
    the three measure the same configurations under the same names."""
    from recsample.samplers import (AOBPR, DNS, KOS, NBPO, SRNS, WARP, Importance,
                                    Popularity, Uniform)
    return {
        "uniform": Uniform,
        "popularity": Popularity,
        "dns (N=16)": lambda: DNS(candidates=16),
        "dns(M=4, N=16)": lambda: DNS(candidates=16, hardest=4),
        "softmax-v(rho=1, N=16)": lambda: DNS(candidates=16, rho=1.0),
        "nbpo": lambda: NBPO(lambda_phi=0.01),
        "warp": WARP,
        "aobpr": AOBPR,
        "srns": SRNS,
        "importance (uniform q)": Importance,
        "importance (popularity q)": lambda: Importance(proposal="popularity"),
        "kos (K=10, k=5)": KOS,
    }


# ------------------------------------------------------------------ data
def data_folder(name, path=None):
    """The folder to read ``name`` from: ``path`` when given, else
    ``../shared/data/<name>`` when it exists, else None (``rs.load_dataset``'s
    own default: embedded, generated or its cache folder)."""
    if path is not None:
        return Path(path)
    shared = SHARED_DATA / name
    return shared if shared.is_dir() else None


def load(name, path=None, **options):
    """``rs.load_dataset(name, path=...)`` with the folder of :func:`data_folder`."""
    import recsample as rs
    folder = data_folder(name, path)
    return rs.load_dataset(name, path=None if folder is None else str(folder), **options)


def train_test(name, path=None):
    """(train, test): the published split of a release that ships one
    (gowalla's train.txt / test.txt, nbpo-amazon's train / test, its
    validation file left out), else a per-user 80/20 random holdout (seed 0)."""
    import recsample as rs
    data = load(name, path)
    if isinstance(data, tuple):
        return data[0], data[-1]
    return rs.split.random_holdout(data, test_fraction=0.2, seed=0)


def first_part(name, path=None):
    """The whole data set, or its training part when the release is a split."""
    data = load(name, path)
    return data[0] if isinstance(data, tuple) else data


def fit_valid(train, seed=0, fraction=0.1):
    """(fit, valid): a per-user ``fraction`` (10% unless given) of ``train``
    carved off as validation (seed 0 unless given)."""
    import recsample as rs
    return rs.split.random_holdout(train, test_fraction=fraction, seed=seed)


def training_set(ap, args):
    """The training set ``--data`` names (see :func:`add_timing_args`):
    gowalla's train.txt, or movielens-small less a random 20% (seed 0)."""
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (the first epoch is left out)")
    if args.data == "gowalla":
        if not (Path(args.gowalla_path) / "train.txt").is_file():
            ap.error(f"no train.txt in --gowalla-path {args.gowalla_path}")
        return train_test("gowalla", args.gowalla_path)[0]
    return train_test("movielens-small")[0]


class Factors:
    """user_factors / item_factors, as a fitted model exposes them: what
    ``rs.evaluate`` and the index builders read."""

    def __init__(self, user_factors, item_factors):
        self.user_factors, self.item_factors = user_factors, item_factors


def mean_metric(model, test, train, metric="ndcg", k=10):
    """The mean over test users of one full-ranking metric, training items excluded."""
    import recsample as rs
    s = rs.evaluate(model, test, train=train, k=(k,), metrics=(metric,)).summary()
    return float(s["mean"].iloc[0])


# ------------------------------------------------------------------ timing
def fastest_epoch(train, sampler, epochs, threads):
    """Seconds of a BPR fit's fastest epoch after the first (which compiles or
    loads the cache): 64 factors + bias, one negative per positive, learning
    rate 0.05 (WARP's 0.01), seed 0."""
    import recsample as rs
    model = rs.BPR(factors=64, epochs=epochs, sampler=sampler, seed=0, n_threads=threads,
                   learning_rate=0.01 if isinstance(sampler, rs.samplers.WARP) else 0.05)
    model.fit(train, progress=False)
    return min(h["seconds"] for h in model.history_[1:])


def median_epoch(model, train):
    """Fits ``model``; the median of its epochs' seconds and its last history record."""
    model.fit(train, progress=False)
    return statistics.median(h["seconds"] for h in model.history_), model.history_[-1]


def proc_status_mb(field):
    """A ``/proc/self/status`` field in MB (VmRSS: resident now, VmHWM: its
    peak); NaN where there is no such file. tracemalloc does not see BLAS or
    numba allocations, this does."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def one_blas_thread():
    """Limits BLAS to one thread (implicit warns when BLAS threads compete with its own)."""
    import threadpoolctl
    threadpoolctl.threadpool_limits(1, "blas")


# ------------------------------------------------------------------ implicit
def implicit_bpr(factors, epochs, threads, learning_rate=0.01, regularization=0.01, seed=0):
    """implicit's CPU BPR (its defaults: learning rate 0.01, regularization 0.01)."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking
    return BayesianPersonalizedRanking(factors=factors, learning_rate=learning_rate,
                                       regularization=regularization, iterations=epochs,
                                       num_threads=threads, random_state=seed)


def implicit_skip_rate(matrix):
    """Expected fraction of implicit's samples whose negative is a positive.

    implicit draws each epoch nnz (positive, negative) samples: the positive a
    random stored entry, the negative the item of another random stored entry,
    and with ``verify_negative_samples`` it *skips* a sample whose negative is
    one of the user's positives. The expectation is the sum over stored (u, i)
    of (1/nnz) * P(the item of a random entry is in I_u)."""
    import numpy as np
    counts = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
    nnz = matrix.nnz
    deg = np.diff(matrix.indptr)
    row_mass = np.add.reduceat(counts[matrix.indices], matrix.indptr[:-1]) / nnz
    row_mass[deg == 0] = 0.0
    return float((deg / nnz * row_mass).sum())


# ------------------------------------------------------------------ arguments
def parser(doc, paragraph=False):
    """An ArgumentParser described by the first line (or, with ``paragraph``,
    the first paragraph) of a script's docstring."""
    return argparse.ArgumentParser(
        description=doc.split("\n\n")[0] if paragraph else doc.split("\n")[0])


def add_gowalla_path(ap):
    """``--gowalla-path DIR`` (also spelled ``--gowalla``): the folder of
    gowalla's train.txt and test.txt; default ``../shared/data/gowalla``."""
    ap.add_argument("--gowalla-path", "--gowalla", dest="gowalla_path", default=str(GOWALLA),
                    help="folder with gowalla's train.txt and test.txt (default: %(default)s)")


def add_gowalla_study_args(ap, every=10):
    """The arguments of a Gowalla validation study of one model: ``MODEL``,
    ``SETTINGS`` (JSON), ``--path DIR``, ``--every N``, ``--carve-seed S``
    and ``--valid-fraction F``."""
    ap.add_argument("model", help="a recsample model class: BPR, BPO, Softmax, CCL")
    ap.add_argument("settings", help="JSON object of constructor arguments")
    ap.add_argument("--path", default=None, help="folder with train.txt and test.txt "
                                                 "(default: ../shared/data/gowalla)")
    ap.add_argument("--every", type=int, default=every, help="score every N epochs")
    ap.add_argument("--carve-seed", type=int, default=0, metavar="S",
                    help="seed of the validation carving (default 0, every recorded row's)")
    ap.add_argument("--valid-fraction", type=float, default=0.1, metavar="F",
                    help="share of each user's items carved off as validation (default 0.1, "
                         "every recorded row's unless it says otherwise; 0.21 is test.txt's)")


def gowalla_study(ap, args, test=False):
    """(fit, valid, model) for :func:`add_gowalla_study_args`'s arguments:
    train.txt's carving (with ``test``: train.txt and test.txt themselves)
    and the model built from its settings, where ``"sampler": "dns32"``
    stands for DNS(candidates=32) and ``"sampler": {"name": ...,
    **parameters}`` for a sampler built from its name."""
    import recsample as rs
    if args.every < 1:
        ap.error(f"--every must be at least 1, got {args.every}")
    train, held = train_test("gowalla", args.path)
    fit, valid = (train, held) if test else fit_valid(train, seed=args.carve_seed,
                                                      fraction=args.valid_fraction)
    settings = json.loads(args.settings)
    if settings.get("sampler") == "dns32":
        settings["sampler"] = rs.samplers.DNS(candidates=32)
    elif isinstance(settings.get("sampler"), dict):
        spec = dict(settings["sampler"])
        settings["sampler"] = rs.samplers.SAMPLERS[spec.pop("name")](**spec)
    return fit, valid, getattr(rs, args.model)(**settings)


def add_dataset_args(ap, default="movielens-small", choices=None, path_help=None):
    """``--dataset NAME`` (also spelled ``--data``) and ``--path DIR``, the
    folder of a data set that does not ship (default ``../shared/data/NAME``)."""
    ap.add_argument("--dataset", "--data", dest="dataset", default=default, choices=choices)
    ap.add_argument("--path", default=None,
                    help=path_help or "folder of the data set's files (default: "
                                      "../shared/data/NAME when it exists)")


def add_timing_args(ap, epochs, rounds):
    """--data, --gowalla-path, --threads, --epochs and --rounds, as the A/B
    tools that time one sampler against uniform take them."""
    ap.add_argument("--data", choices=["movielens", "gowalla"], default="movielens")
    add_gowalla_path(ap)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--rounds", type=int, default=rounds)
