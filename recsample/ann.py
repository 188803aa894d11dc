"""Approximate top-k over a fitted factor model's items, for serving.

:class:`ItemIndex` puts a model's item factors into a faiss HNSW graph
(Malkov & Yashunin, 2018) and answers ``recommend`` as the model does, with
the same arguments and the same return contract, in a fraction of the time
an exact scan of a large catalogue takes: a query walks a few thousand graph
nodes instead of scoring every item.

The score is the model's own: ``user_factors @ item_factors.T``, bias column
included (its constant 1 on the user side picks up the item bias), so the
index searches by maximum inner product over the exported rows; with
``similarity="cosine"`` those rows are already normalised. Candidates found
in the graph are scored again exactly (float32, as the model scores), so
the returned scores are true scores and only the choice of items is
approximate.

Needs the ``ann`` extra: ``pip install "recsample[ann]"`` (faiss-cpu).
"""
from __future__ import annotations

import hashlib
import json
import numbers
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .core.validation import check_ids
from ._optional import require
from ._version import __version__

__all__ = ["ItemIndex"]

MIPS = ("l2_reduction", "inner_product")
"""The search strategies of ``ItemIndex(mips=...)``, the default first."""

FORMAT_VERSION = 1
"""Version of the metadata file ``ItemIndex.save`` writes (``*.faiss.json``);
``ItemIndex.load`` refuses a newer one."""

# Rows whose ask (k plus their excluded items) exceeds n_items / (_EXACT_SHARE * M)
# are ranked by an exact scan: a graph search costs about 2 M distance
# evaluations per candidate kept, at random addresses, while the scan streams
# the whole table through BLAS, so past that point the scan is the cheaper
# of the two (and it is exact).
_EXACT_SHARE = 2

# Graph searches per row before a row that still lacks items is ranked
# exactly: the first asks for k plus the row's excluded items, the second for
# twice that. A graph search can return fewer items than asked for when the
# ask approaches the size of the graph (faiss returns -1 for the rest).
_GRAPH_ROUNDS = 2

# Rows hashed at once when fingerprinting the item factors.
_HASH_ROWS = 1 << 16


def _faiss():
    return require("faiss", "ann", "recsample.ann.ItemIndex")


def _int_arg(name, value, low, *, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@contextmanager
def _omp_threads(faiss, n_threads):
    """faiss's OpenMP thread count set to ``n_threads`` for the block (a
    process-wide setting, restored after); None leaves it as it is."""
    if n_threads is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n_threads)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _fingerprint(V) -> str:
    """blake2b (128 bits, hex) of the float32 rows of ``V`` and its shape."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{V.shape[0]}x{V.shape[1]}:".encode())
    for start in range(0, V.shape[0], _HASH_ROWS):
        block = np.ascontiguousarray(V[start:start + _HASH_ROWS], dtype=np.float32)
        h.update(memoryview(block).cast("B"))
    return h.hexdigest()


def _model_factors(model, who):
    """The fitted model's (user_factors or None, item_factors), float32,
    checked."""
    if getattr(model, "is_fitted", True) is False:
        raise RuntimeError(f"{who} needs a fitted model; this {type(model).__name__} is not "
                           "fitted yet: call fit(train) first")
    if not hasattr(model, "item_factors"):
        raise TypeError(f"{who} needs a factor model (an object with item_factors and "
                        f"user_factors whose product is the score); {type(model).__name__} "
                        "has no item_factors")
    V = np.asarray(model.item_factors)
    U = getattr(model, "user_factors", None)
    if V.ndim != 2 or V.shape[0] < 1 or V.shape[1] < 1 or V.dtype.kind != "f":
        raise ValueError(f"{who}: the model's item_factors must be a non-empty float array "
                         f"(n_items, factors), got {V.dtype} with shape {V.shape}")
    V = np.ascontiguousarray(V, dtype=np.float32)
    if not np.isfinite(V).all():
        raise ValueError(f"{who}: the model's item_factors contain NaN or infinite values")
    if U is not None:
        U = np.asarray(U)
        if U.ndim != 2 or U.shape[1] != V.shape[1] or U.dtype.kind != "f":
            raise ValueError(f"{who}: the model's user_factors must be a float array "
                             f"(n_users, {V.shape[1]}) like its item_factors, got {U.dtype} "
                             f"with shape {U.shape}")
        # a copy: queries by user id read these rows, whatever later happens
        # to the model's own array
        U = np.array(U, dtype=np.float32, order="C", copy=True)
        if not np.isfinite(U).all():
            raise ValueError(f"{who}: the model's user_factors contain NaN or infinite values")
    return U, V


def _paths(path):
    """(index file, metadata file, model file) for ``path``: the model's
    ``.npz``, the index's ``.faiss`` or the common stem."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".npz", ".faiss") else path
    index = stem.with_name(stem.name + ".faiss")
    return index, index.with_name(index.name + ".json"), stem.with_name(stem.name + ".npz")


def _atomic_write(path: Path, write):
    """Call ``write(temporary_name)`` and move the result onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _Excluded:
    """Excluded items of the queried rows: row r of the query reads row
    ``rows[r]`` of the canonical CSR (indptr, indices)."""

    def __init__(self, matrix, rows):
        self.indptr = matrix.indptr
        self.indices = matrix.indices
        self.rows = rows
        self.counts = (self.indptr[rows + 1] - self.indptr[rows]).astype(np.int64)

    def items(self, sel):
        """(query-local row number, item) of every excluded item of the
        query rows ``sel``, as two int64 arrays."""
        counts = self.counts[sel]
        starts = self.indptr[self.rows[sel]].astype(np.int64)
        total = int(counts.sum())
        offsets = np.cumsum(counts) - counts
        pos = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)
        return np.repeat(np.arange(len(sel), dtype=np.int64), counts), \
            self.indices[pos].astype(np.int64)

    def csr(self, sel, n_items):
        import scipy.sparse as sp
        _, items = self.items(sel)
        indptr = np.zeros(len(sel) + 1, dtype=np.int64)
        np.cumsum(self.counts[sel], out=indptr[1:])
        return sp.csr_matrix((np.ones(len(items), dtype=np.float32), items, indptr),
                             shape=(len(sel), n_items))


class ItemIndex:
    """Approximate top-k of a fitted factor model, from an HNSW graph over
    its items (faiss).

    Build one with :meth:`build` (or ``ItemIndex(model, ...)``, the same),
    reload a saved one with :meth:`load`. :meth:`recommend` takes the
    arguments of the model's ``recommend`` and returns what it returns;
    only which items are found is approximate (see ``ef_search``), their
    scores are the model's exact float32 scores.

    Parameters
    ----------
    model : fitted factor model
        A trainer of :mod:`recsample.models` (or any object with
        ``user_factors`` and ``item_factors`` whose product is the score,
        such as ``rs.baselines.ALS``). With an item bias the last columns
        (1 for users, the bias for items) are part of the product and so of
        the search. The model's user rows are copied when the index is
        built, for queries by user id (see :meth:`refresh_users`).
    M : int, default 32
        Links per node of the graph (twice as many on its bottom layer).
        More links: higher recall at a given ``ef_search``, a slower build
        and 8 bytes more per item per link of the bottom layer.
    ef_construction : int, default 200
        Candidates kept while linking an item in. Higher: a better graph, a
        slower build.
    ef_search : int, default 128
        Candidates kept by a query (raised to the number of items asked for
        when that is more): the dial between recall and speed. Settable
        later (``index.ef_search = 256``); not stored with the graph's
        structure, only as the saved default.
    mips : {"l2_reduction", "inner_product"}, default "l2_reduction"
        How the graph finds the largest inner products. "l2_reduction"
        gives every item an extra coordinate sqrt(max_norm^2 - ||v||^2)
        and every query a 0 there: all items then have the same norm, and
        the largest inner product is the nearest neighbour in Euclidean
        distance (Bachrach et al., RecSys 2014), which a graph built by
        distance finds well. "inner_product" builds and searches the graph
        by the inner product itself; in trained models the item norm grows
        with popularity, and the graph then links mostly towards the large
        popular items, so that less popular ones are reached late or not at
        all. On a BPR model of movielens-small and on synthetic factors
        shaped like it, the reduction finds more of the true top 10 at
        every ``ef_search`` and keeps improving where the inner-product
        graph levels off (the serving guide has the measurements).
    n_threads : int or None, default None
        faiss threads for building and for batched queries (None: faiss's
        default, all cores). faiss keeps this setting process-wide; the
        index sets it around its own calls and restores it after.

    Attributes
    ----------
    model : object or None
        The model the index serves (None when loaded without one).
    """

    def __init__(self, model, *, M=32, ef_construction=200, ef_search=128,
                 mips="l2_reduction", n_threads=None):
        faiss = _faiss()
        M = _int_arg("M", M, 2)
        ef_construction = _int_arg("ef_construction", ef_construction, 1)
        ef_search = _int_arg("ef_search", ef_search, 1)
        if mips not in MIPS:
            raise ValueError(f"mips must be one of {MIPS}, got {mips!r}")
        n_threads = _int_arg("n_threads", n_threads, 1, allow_none=True)
        U, V = _model_factors(model, "ItemIndex")
        # The reduction is the default: in trained models the item norm rises
        # with popularity, and a graph linked by inner product points mostly at
        # the large popular items, so the rest is reached late. Measured
        # (benchmarks/peers/bench_ann.py, 1M items shaped after a BPR model, M=32):
        # recall@10 0.963 / 0.987 / 0.999 at ef_search 128 / 256 / 1024 with
        # the reduction, 0.925 / 0.944 / 0.960 by inner product, at about the
        # same time per query; on a BPR model of movielens-small 0.994 against
        # 0.972 at ef_search 64 (M=16). docs/serving.md has the tables.
        if mips == "inner_product":
            X, metric = V, faiss.METRIC_INNER_PRODUCT
        else:
            X, metric = self._reduced(V), faiss.METRIC_L2
        index = faiss.IndexHNSWFlat(X.shape[1], M, metric)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        with _omp_threads(faiss, n_threads):
            index.add(X)
        del X
        meta = {"mips": mips, "M": M, "ef_construction": ef_construction,
                "n_items": int(V.shape[0]), "dim": int(V.shape[1]),
                "fingerprint": _fingerprint(V)}
        self._setup(faiss, index, meta, ef_search, n_threads)
        self.model = model
        self._set_users(U)

    @classmethod
    def build(cls, model, *, M=32, ef_construction=200, ef_search=128, mips="l2_reduction",
              n_threads=None) -> ItemIndex:
        """Build the index of ``model``'s items: the same as
        ``ItemIndex(model, ...)`` (see the class for the parameters).
        Building is the slow step (minutes for a million items); save the
        result with :meth:`save`."""
        return cls(model, M=M, ef_construction=ef_construction, ef_search=ef_search,
                   mips=mips, n_threads=n_threads)

    # ------------------------------------------------------------ internals
    @staticmethod
    def _reduced(V):
        """Items with the extra coordinate sqrt(max ||v||^2 - ||v||^2)."""
        sq = np.einsum("ij,ij->i", V, V, dtype=np.float64)
        X = np.empty((V.shape[0], V.shape[1] + 1), dtype=np.float32)
        X[:, :-1] = V
        X[:, -1] = np.sqrt(np.maximum(sq.max() - sq, 0.0))
        return X

    def _setup(self, faiss, index, meta, ef_search, n_threads):
        self._faiss = faiss
        self._index = index
        self._meta = meta
        self._ef_search = ef_search
        self._n_threads = n_threads
        self._params = {}
        # the graph's own copy of the rows it was built from (the item factors,
        # with the reduction's extra column), viewed in place: candidates are
        # scored from it, so the index needs no second copy of the items
        storage = faiss.downcast_index(index.storage)
        width = index.d
        self._rows = faiss.rev_swig_ptr(storage.get_xb(), index.ntotal * width) \
            .reshape(index.ntotal, width)
        self._rows.flags.writeable = False
        self._width = width

    def _set_users(self, U):
        if U is None:
            self._users = None
            return
        if self._width != U.shape[1]:      # the reduction's 0 for the queries
            U = np.hstack([U, np.zeros((U.shape[0], 1), dtype=np.float32)])
        self._users = U

    def _search_params(self, ef):
        params = self._params.get(ef)
        if params is None:
            params = self._faiss.SearchParametersHNSW()
            params.efSearch = ef
            self._params[ef] = params
        return params

    # ------------------------------------------------------------ properties
    # one read-only property per setting of the index, each with its own
    # docstring for the API reference (which reads them statically)
    @property
    def n_items(self) -> int:
        """Items in the index."""
        return self._meta["n_items"]

    @property
    def dim(self) -> int:
        """Width of the factor rows (``factors``, plus the bias column)."""
        return self._meta["dim"]

    @property
    def fingerprint(self) -> str:
        """Hash (blake2b, 128 bits) of the item factors' shape and float32
        values; :meth:`load` compares it with the model's."""
        return self._meta["fingerprint"]

    @property
    def mips(self) -> str:
        """The search strategy (see the class's ``mips``)."""
        return self._meta["mips"]

    @property
    def M(self) -> int:
        """Links per node of the graph."""
        return self._meta["M"]

    @property
    def ef_construction(self) -> int:
        """Candidates kept while the graph was built."""
        return self._meta["ef_construction"]

    @property
    def ef_search(self) -> int:
        """Candidates kept by a query (at least the number of items asked for)."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value):
        self._ef_search = _int_arg("ef_search", value, 1)

    @property
    def n_threads(self):
        """faiss threads for building and batched queries (None: faiss's default)."""
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value):
        self._n_threads = _int_arg("n_threads", value, 1, allow_none=True)

    @property
    def faiss_index(self):
        """The underlying ``faiss.IndexHNSWFlat``, for inspection (for example
        ``faiss.serialize_index``). Do not add or remove vectors: the index
        reads its items from this object's storage."""
        return self._index

    def __repr__(self):
        return (f"ItemIndex(n_items={self.n_items:,}, dim={self.dim}, mips={self.mips!r}, "
                f"M={self.M}, ef_construction={self.ef_construction}, "
                f"ef_search={self.ef_search})")

    # ------------------------------------------------------------ queries
    def recommend(self, users=None, k=10, exclude=None, *, user_items=None, user_factors=None):
        """Top-``k`` items for each user, best first, approximately: the
        arguments and the results of the model's ``recommend``.

        Parameters
        ----------
        users : array-like of int
            Internal user ids of the model. Leave out when giving
            ``user_items`` or ``user_factors``.
        k : int
            List length; a ``k`` above the number of items is taken as the
            number of items.
        exclude : Interactions or scipy.sparse matrix, optional
            Items never returned (usually the training data), users x items
            as for the model; with ``user_items`` or ``user_factors``, one
            row per given row. The graph is asked for ``k`` plus a row's
            excluded items, so ``k`` items are left after dropping them;
            a row with more excluded items than ``n_items / (2 M)`` is
            ranked by an exact scan, which is cheaper there.
        user_items : Interactions or scipy.sparse matrix (n_rows, n_items), optional
            Users given by their interactions, folded in by the model
            (``model.fold_in``, default settings) and then searched. Needs
            the model.
        user_factors : array (n_rows, dim), optional
            User rows in the form of the model's ``user_factors`` (for
            example from ``model.fold_in``, or computed elsewhere), searched
            as they are.

        Returns
        -------
        items : int64 array (n_rows, min(k, n_items))
        scores : float32 array (n_rows, min(k, n_items))
            Best first, equal scores to the lower item index; the scores are
            the exact products of the rows. A row is padded with -1 / -inf
            only when fewer than ``k`` items remain after ``exclude``.

        Raises
        ------
        ValueError
            Bad ``k``, ids out of range, rows of the wrong width, an
            ``exclude`` of the wrong shape, or ``users`` on an index loaded
            without its model.
        """
        k = _int_arg("k", k, 1)
        given = sum(x is not None for x in (users, user_items, user_factors))
        if given != 1:
            raise ValueError("give exactly one of users, user_items and user_factors; got "
                             f"{given}")
        if users is not None:
            if self._users is None:
                raise ValueError("this index has no user rows (it was loaded without its "
                                 "model, or built from one without user_factors): pass "
                                 "model= to ItemIndex.load, or query with user_factors=")
            users = check_ids(users, self._users.shape[0])
            Q = self._users[users]
            rows, n_rows = users, self._users.shape[0]
        else:
            if user_items is not None:
                if self.model is None or not hasattr(self.model, "fold_in"):
                    has = "no model" if self.model is None else type(self.model).__name__
                    raise ValueError("user_items= needs a model that can fold users in "
                                     f"(model.fold_in); this index has {has}: fold the rows "
                                     "in yourself and pass user_factors=")
                user_factors = self.model.fold_in(user_items)
            Q = self._query_rows(user_factors)
            rows = np.arange(Q.shape[0], dtype=np.int64)
            n_rows = Q.shape[0]
        ex = None
        if exclude is not None:
            from .interactions import as_csr
            m = as_csr(exclude, "exclude", shape=(n_rows, self.n_items))
            if m.nnz:
                ex = _Excluded(m, rows)
        return self._query(Q, min(k, self.n_items), ex)

    def _query_rows(self, rows):
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != self.dim or rows.dtype.kind != "f":
            raise ValueError(f"user_factors must be a float array (n_rows, {self.dim}) in the "
                             f"form of the model's user_factors, got {rows.dtype} with shape "
                             f"{rows.shape}")
        if not np.isfinite(rows).all():
            raise ValueError("user_factors has NaN or infinite values")
        Q = np.zeros((rows.shape[0], self._width), dtype=np.float32)
        Q[:, :self.dim] = rows
        return Q

    def _query(self, Q, k, ex):
        n_rows, n = Q.shape[0], self.n_items
        exact_above = n // (_EXACT_SHARE * self.M)
        if ex is None and k <= exact_above:
            # the common case, one search: no exclusions, every row found k items
            items, scores, found = self._graph_search(Q, None, k, k, None)
            if n_rows == 0 or found.min() >= k:
                return items, scores
        items = np.full((n_rows, k), -1, dtype=np.int64)
        scores = np.full((n_rows, k), -np.inf, dtype=np.float32)
        if n_rows == 0:
            return items, scores
        if ex is None:
            ask = np.full(n_rows, k, dtype=np.int64)
            want = np.full(n_rows, k, dtype=np.int64)
        else:
            e = ex.counts
            # k plus the excluded count, that count rounded up to a power of
            # two so that rows group into few searches
            pad = np.where(e > 0, 2.0 ** np.ceil(np.log2(np.maximum(e, 1))), 0).astype(np.int64)
            ask = np.minimum(n, k + pad)
            want = np.minimum(k, n - e)
        scan = ask > exact_above
        exact = [np.flatnonzero(scan)]
        pending = np.flatnonzero(~scan)
        for _ in range(_GRAPH_ROUNDS):
            if not len(pending):
                break
            short = []
            for a in np.unique(ask[pending]):
                sel = pending[ask[pending] == a]
                items[sel], scores[sel], found = self._graph_search(Q[sel], sel, int(a), k, ex)
                short.append(sel[found < want[sel]])
            pending = np.concatenate(short)
            ask[pending] = np.minimum(n, 2 * ask[pending])
        exact.append(pending)
        exact = np.concatenate(exact)
        if len(exact):
            items[exact], scores[exact] = self._exact_rows(Q[exact], exact, k, ex)
        return items, scores

    def _graph_search(self, Q, sel, ask, k, ex):
        """Search the graph for ``ask`` items per query row of ``Q`` (the
        rows ``sel`` of the whole query, for ``ex``): (items, scores) of
        their top-k, and how many allowed items each row found."""
        with _omp_threads(self._faiss, self._n_threads):
            _, cand = self._index.search(Q, ask, params=self._search_params(
                max(self._ef_search, ask)))
        valid = cand >= 0
        if ex is not None:
            local, ex_items = ex.items(sel)
            if len(ex_items):
                n = self.n_items
                keys = np.arange(len(sel), dtype=np.int64)[:, None] * n + cand
                valid &= ~np.isin(keys, local * n + ex_items)
        all_valid = valid.all()
        if not all_valid:
            cand[~valid] = 0
        # exact float32 scores of the candidates (a batched matrix-vector product)
        s = np.matmul(self._rows[cand], Q[:, :, None])[:, :, 0]
        if not all_valid:
            s[~valid] = -np.inf
            cand[~valid] = -1
        # best score first, equal scores to the lower item index, missing last
        order = np.lexsort((cand, -s), axis=1)[:, :k]
        rows = np.arange(Q.shape[0])[:, None]
        return cand[rows, order], s[rows, order], valid.sum(axis=1)

    def _exact_rows(self, Q, sel, k, ex):
        """(items, scores) of the rows ``sel`` (queries ``Q``) by an exact
        scan of the items."""
        from .evaluation.topk import topk
        exclude = None if ex is None else ex.csr(sel, self.n_items)
        return topk(Q, self._rows, np.arange(len(sel)), k, exclude=exclude)

    # ------------------------------------------------------------ users
    def refresh_users(self, model=None) -> ItemIndex:
        """Copy the user rows again from ``model`` (default: the index's
        model), after its users changed (``partial_fit_users``); the item
        factors must be those the index was built from. Returns self."""
        model = self.model if model is None else model
        if model is None:
            raise ValueError("this index has no model to read user rows from: pass model=")
        U, V = _model_factors(model, "ItemIndex.refresh_users")
        self._check_items(V, "the model passed to refresh_users")
        if U is None:
            raise ValueError(f"{type(model).__name__} has no user_factors to copy")
        self.model = model
        self._set_users(U)
        return self

    def _check_items(self, V, what, index_file=None):
        if tuple(V.shape) != (self.n_items, self.dim):
            why = (f"{what} has {V.shape[0]:,} items x {V.shape[1]} columns, the index "
                   f"{self.n_items:,} x {self.dim}")
        elif _fingerprint(V) != self.fingerprint:
            why = f"{what} has item factors of the same shape but other values"
        else:
            return
        where = f"{index_file} was" if index_file else "the index was"
        raise ValueError(f"{where} not built from {what}: {why}. Build a new index from this "
                         "model (ItemIndex.build(model)) and save it")

    # ------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """Write the index beside a model file: ``path`` may be the model's
        ``.npz`` (``model.npz`` gives ``model.faiss`` and
        ``model.faiss.json``), the ``.faiss`` file itself or their common
        stem. The ``.faiss`` file is faiss's own format (``faiss.read_index``
        reads it); the JSON holds the settings and the fingerprint of the
        item factors. Both are written atomically. Returns the ``.faiss``
        path."""
        index_path, meta_path, _ = _paths(path)
        meta = dict(self._meta, ef_search=self._ef_search, format_version=FORMAT_VERSION,
                    recsample_version=__version__, kind="recsample.ann.ItemIndex")
        _atomic_write(index_path, lambda tmp: self._faiss.write_index(self._index, tmp))
        text = json.dumps(meta, indent=1)
        _atomic_write(meta_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        return index_path

    @classmethod
    def load(cls, path, model=None, *, n_threads=None) -> ItemIndex:
        """Read an index written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The model's ``.npz``, the index's ``.faiss`` or their stem, as
            given to :meth:`save`.
        model : fitted model, optional
            The model the index serves. Default: the model saved beside the
            index (``<stem>.npz``, read with ``recsample.load_model``) when
            that file exists; otherwise the index is loaded without a model
            and answers queries by ``user_factors`` only.
        n_threads : int or None, optional
            As for :class:`ItemIndex`.

        Raises
        ------
        FileNotFoundError
            No ``.faiss`` or ``.faiss.json`` file at ``path``.
        ValueError
            The model's item factors are not those the index was built
            from (the message names the files), or the two index files do
            not belong together or are damaged.
        """
        faiss = _faiss()
        n_threads = _int_arg("n_threads", n_threads, 1, allow_none=True)
        index_path, meta_path, model_path = _paths(path)
        for p in (index_path, meta_path):
            if not p.is_file():
                raise FileNotFoundError(f"no saved ItemIndex at {p} (ItemIndex.save writes "
                                        f"{index_path.name} and {meta_path.name})")
        meta = _read_meta(meta_path)
        try:
            index = faiss.read_index(str(index_path))
        except RuntimeError as exc:
            raise ValueError(f"{index_path} is not a faiss index file (truncated or "
                             f"foreign): {exc}") from None
        if not isinstance(index, faiss.IndexHNSWFlat):
            index = faiss.downcast_index(index)
        width = meta["dim"] + (1 if meta["mips"] == "l2_reduction" else 0)
        if not isinstance(index, faiss.IndexHNSWFlat) or index.ntotal != meta["n_items"] \
                or index.d != width:
            raise ValueError(f"{index_path} does not match {meta_path}: the metadata describes "
                             f"an HNSW index of {meta['n_items']:,} items x {width}, the file "
                             f"holds a {type(index).__name__} of {index.ntotal:,} x {index.d}")
        self = cls.__new__(cls)
        self._setup(faiss, index, meta, meta.pop("ef_search"), n_threads)
        if _fingerprint(self._rows[:, :meta["dim"]]) != meta["fingerprint"]:
            raise ValueError(f"{index_path} does not match {meta_path}: the items in the index "
                             "are not those the metadata's fingerprint describes (files from "
                             "two different saves?)")
        what = "the given model"
        if model is None and model_path.is_file():
            from .models import load_model
            model = load_model(model_path)
            what = f"the model in {model_path}"
        self.model = model
        self._users = None
        if model is not None:
            U, V = _model_factors(model, "ItemIndex.load")
            self._check_items(V, what, index_file=index_path)
            self._set_users(U)
        return self


def _read_meta(path):
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not an ItemIndex metadata file: {exc}") from None
    if not isinstance(meta, dict) or meta.get("kind") != "recsample.ann.ItemIndex":
        raise ValueError(f"{path} is not an ItemIndex metadata file")
    if meta.get("format_version", FORMAT_VERSION + 1) > FORMAT_VERSION:
        raise ValueError(f"{path} has format version {meta.get('format_version')!r}; this "
                         f"recsample ({__version__}) reads up to {FORMAT_VERSION}: upgrade "
                         "recsample or build the index again")
    fields = {"mips": str, "M": int, "ef_construction": int, "ef_search": int,
              "n_items": int, "dim": int, "fingerprint": str}
    for key, kind in fields.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise ValueError(f"{path} is not a complete ItemIndex metadata file: "
                             f"{key!r} is missing or not a {kind.__name__}")
    if meta["mips"] not in MIPS:
        raise ValueError(f"{path} names an unknown mips {meta['mips']!r}")
    return {key: meta[key] for key in fields}
