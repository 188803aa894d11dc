"""The names of the package's parts, in one place: samplers, trainers,
baselines and metrics.

The command line, tuning, the experiment grids and the documentation read
their names from here. The entries are text ("module:class"), so reading a
name imports nothing: ``recsample --help`` stays quick and does not start
the compiler. :func:`load` imports a class when it is asked for;
``recsample.samplers.SAMPLERS``, ``recsample.models.MODELS`` and
``recsample.baselines.BASELINES`` are built from these tables.
"""
from __future__ import annotations

from importlib import import_module

from .core.validation import suggest

#: sampler name -> "module:class"
SAMPLERS = {
    "uniform": "recsample.samplers.uniform:Uniform",
    "popularity": "recsample.samplers.popularity:Popularity",
    "dns": "recsample.samplers.dns:DNS",
    "nbpo": "recsample.samplers.nbpo:NBPO",
    "warp": "recsample.samplers.warp:WARP",
    "aobpr": "recsample.samplers.aobpr:AOBPR",
    "srns": "recsample.samplers.srns:SRNS",
    "importance": "recsample.samplers.importance:Importance",
    "kos": "recsample.samplers.kos:KOS",
}

#: trainer name (lower case, as the command line and ``rs.tune`` take it)
#: -> "module:class"
MODELS = {
    "bpr": "recsample.models.bpr:BPR",
    "bpo": "recsample.models.bpo:BPO",
    "nbpo": "recsample.models.bpo:NBPO",
    "softmax": "recsample.models.softmax:Softmax",
    "ccl": "recsample.models.ccl:CCL",
}

#: baseline name -> "module:class"
BASELINES = {
    "popular": "recsample.baselines.popular:MostPopular",
    "ease": "recsample.baselines.ease:EASE",
    "als": "recsample.baselines.als:ALS",
}

#: metrics of a ranked list at a cut-off k (see docs/metrics.md); the
#: evaluation's compiled loop numbers them in this order
RANK_METRICS = ("precision", "recall", "f1", "ndcg", "map", "mrr", "hit_rate")
#: every metric ``rs.evaluate`` computes: the ranked-list ones, the AUC over
#: the whole ranking and the catalogue coverage of the lists
METRICS = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate", "f1", "auc", "coverage")

_TABLES = {"sampler": SAMPLERS, "model": MODELS, "baseline": BASELINES}


def names(kind: str) -> tuple:
    """The registered names of ``kind`` ("sampler", "model" or "baseline")."""
    return tuple(_table(kind))


def load(kind: str, name: str):
    """The class registered as ``name`` among ``kind``; a ValueError with
    the closest name for an unknown one."""
    table = _table(kind)
    key = str(name).strip().lower()
    if key not in table:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(table)}"
                         f"{suggest(key, table)}")
    module, attr = table[key].split(":")
    return getattr(import_module(module), attr)


def _table(kind):
    try:
        return _TABLES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {', '.join(_TABLES)}, got {kind!r}") from None
