"""The user x item interaction matrix every other part of recsample reads."""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Interactions", "as_csr"]


def _as_index(ids, name: str) -> pd.Index:
    idx = pd.Index(ids)
    if idx.has_duplicates:
        raise ValueError(f"{name} must be unique; found duplicated external ids")
    return idx


class Interactions:
    """Implicit feedback as a CSR matrix of users x items plus the external ids.

    ``matrix`` is a ``scipy.sparse.csr_matrix`` of float32 with sorted column
    indices and no duplicate entries; row ``u`` holds the items of internal user
    ``u``. ``user_ids[u]`` / ``item_ids[i]`` give the external ids back.
    Optional ``timestamps`` is an int64 array aligned with ``matrix.data`` (one
    per stored interaction, in CSR order). Optional ``item_metadata`` is a
    DataFrame with one row per item, in the order of ``item_ids``.

    Build one with :meth:`from_pandas` or :meth:`from_csr` rather than the
    constructor, which trusts its input.
    """

    def __init__(self, matrix, user_ids=None, item_ids=None, timestamps=None,
                 item_metadata=None, n_duplicates=0, name=None):
        if not sp.isspmatrix_csr(matrix):
            matrix = sp.csr_matrix(matrix)
        self.matrix = matrix
        n_users, n_items = matrix.shape
        self.user_ids = _as_index(np.arange(n_users) if user_ids is None else user_ids, "user_ids")
        self.item_ids = _as_index(np.arange(n_items) if item_ids is None else item_ids, "item_ids")
        if len(self.user_ids) != n_users or len(self.item_ids) != n_items:
            raise ValueError(
                f"user_ids/item_ids lengths ({len(self.user_ids)}, {len(self.item_ids)}) "
                f"do not match the matrix shape {matrix.shape}")
        if timestamps is not None:
            timestamps = np.asarray(timestamps, dtype=np.int64)
            if timestamps.shape != matrix.data.shape:
                raise ValueError(f"timestamps must have one entry per stored interaction: got "
                                 f"{timestamps.shape[0] if timestamps.ndim else 'a scalar'}, "
                                 f"expected {matrix.nnz}")
        self.timestamps = timestamps
        if item_metadata is not None:
            if not isinstance(item_metadata, pd.DataFrame):
                raise TypeError("item_metadata must be a pandas DataFrame with one row per item, "
                                f"got {type(item_metadata).__name__}")
            if len(item_metadata) != n_items:
                raise ValueError(f"item_metadata has {len(item_metadata)} rows; expected one per "
                                 f"item ({n_items}), in the order of item_ids")
        self.item_metadata = item_metadata
        #: how many duplicated (user, item) rows were aggregated when this was built
        self.n_duplicates = int(n_duplicates)
        self.name = name

    # ------------------------------------------------------------------ build
    @classmethod
    def from_csr(cls, matrix, user_ids=None, item_ids=None, timestamps=None,
                 item_metadata=None, name=None):
        """Wrap a users x items sparse matrix (any scipy format).

        Duplicate entries are summed (their number goes to ``n_duplicates``),
        explicit zeros are removed (a stored 0 is "no interaction" in scipy's
        convention), indices are sorted. Values must be finite and
        non-negative. ``timestamps``, if given, must follow the entries of a
        canonical CSR matrix (sorted indices, no duplicates).
        """
        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}")
        if matrix.shape[0] == 0 or matrix.shape[1] == 0:
            raise ValueError(f"matrix must have at least one user and one item, got shape "
                             f"{matrix.shape}")
        if matrix.format == "csr":
            m = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
        else:
            # count duplicates here: scipy's conversion to CSR sums them unseen
            m = sp.coo_matrix(matrix, dtype=np.float32)
        bad = _bad_values(m.data)
        if bad:
            raise ValueError(f"matrix has {bad}; matrix values (weights) must be "
                             "finite and non-negative (and fit in float32)")
        if timestamps is not None:
            timestamps = np.asarray(timestamps)
            if not (m.format == "csr" and m.has_canonical_format
                    and timestamps.shape == (m.nnz,)):
                raise ValueError("timestamps can only be given with a canonical CSR matrix "
                                 "(sorted indices, no duplicates) of the same nnz")
        before = m.nnz
        if m.format == "csr":
            m.sum_duplicates()
            n_dup = before - m.nnz
        else:
            keys = m.row.astype(np.int64) * m.shape[1] + m.col
            n_dup = before - len(np.unique(keys))
            m = m.tocsr()
        if np.any(m.data == 0):
            keep = m.data != 0
            if timestamps is not None:
                timestamps = timestamps[keep]
            m.eliminate_zeros()
        m.sort_indices()
        _shrink_index_dtype(m)
        return cls(m, user_ids, item_ids, timestamps=timestamps, item_metadata=item_metadata,
                   n_duplicates=n_dup, name=name)

    @classmethod
    def from_pandas(cls, df: pd.DataFrame, user: str = "user_id", item: str = "item_id",
                    weight: str | None = None, timestamp: str | None = None,
                    item_metadata: pd.DataFrame | None = None, name=None):
        """Build from rows of (user, item[, weight][, timestamp]).

        Ids may be strings or integers; internal ids follow the sorted external
        ids. Duplicate (user, item) rows are aggregated: weights summed,
        latest timestamp kept; their number is stored in ``n_duplicates``.
        Without ``weight`` every interaction has weight 1. ``timestamp`` may be
        integer (e.g. Unix seconds) or datetime (stored as nanoseconds since the
        epoch, UTC). ``item_metadata`` is a DataFrame indexed by external item
        id; it is re-ordered to follow ``item_ids`` (items it lacks get NaN).
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
        if len(df) == 0:
            raise ValueError("df is empty: need at least one interaction")
        columns = (("user", user), ("item", item), ("weight", weight), ("timestamp", timestamp))
        for arg, col in columns:
            if col is not None and col not in df.columns:
                raise ValueError(f"{arg}={col!r} is not a column of df; "
                                 f"columns are {list(df.columns)}")
        for arg, col in (("user", user), ("item", item)):
            s = df[col]
            if s.isna().any():
                raise ValueError(f"{arg} column {col!r} has {int(s.isna().sum())} missing ids")
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) \
                    and (s < 0).any():
                raise ValueError(f"{arg} column {col!r} has {int((s < 0).sum())} negative ids")
        if weight is not None:
            w = pd.to_numeric(df[weight], errors="coerce")
            n_missing = int(w.isna().sum())
            n_inf = int(np.isinf(w.to_numpy(dtype=float)).sum())
            if n_missing or n_inf:
                found = " and ".join(f"{n:,} {what}" for n, what in
                                     ((n_missing, "missing or non-numeric"), (n_inf, "infinite"))
                                     if n)
                raise ValueError(f"weight column {weight!r} has {found} value"
                                 f"{'s' * (n_missing + n_inf != 1)}; weights must be finite "
                                 "numbers >= 0")
            if (w < 0).any():
                raise ValueError(f"weight column {weight!r} has {int((w < 0).sum())} "
                                 "negative values; weights must be >= 0")
            w = w.to_numpy(dtype=np.float64)
        else:
            w = np.ones(len(df), dtype=np.float64)
        ts = _timestamps_column(df[timestamp], timestamp) if timestamp is not None else None
        try:
            ucodes, uniq_u = pd.factorize(df[user], sort=True)
            icodes, uniq_i = pd.factorize(df[item], sort=True)
        except TypeError as exc:  # e.g. a mix of str and int ids cannot be sorted
            raise TypeError(f"user/item ids must be of one sortable type ({exc})") from None
        n_users, n_items = len(uniq_u), len(uniq_i)

        # one int64 key per row, sorted stably: CSR order, duplicates adjacent
        key = ucodes.astype(np.int64) * n_items + icodes
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        starts = np.flatnonzero(first)
        n_dup = len(key) - len(starts)
        key = key[starts]
        w = np.add.reduceat(w[order], starts) if n_dup else w[order]
        if ts is not None:
            ts = np.maximum.reduceat(ts[order], starts) if n_dup else ts[order]
        if np.any(w == 0):
            raise ValueError(f"weight column {weight!r} is 0 (in total) for {int((w == 0).sum())} "
                             "(user, item) pairs; drop those rows first, or they would be lost "
                             "silently")
        rows = key // n_items
        indices = (key - rows * n_items)
        indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_users), out=indptr[1:])
        m = sp.csr_matrix((w.astype(np.float32), indices, indptr), shape=(n_users, n_items))
        m.has_sorted_indices = True
        _shrink_index_dtype(m)
        meta = None
        if item_metadata is not None:
            if not isinstance(item_metadata, pd.DataFrame):
                raise TypeError("item_metadata must be a DataFrame indexed by item id, "
                                f"got {type(item_metadata).__name__}")
            if item_metadata.index.has_duplicates:
                raise ValueError("item_metadata index (item ids) has duplicates")
            meta = item_metadata.reindex(uniq_i)
        return cls(m, user_ids=uniq_u, item_ids=uniq_i, timestamps=ts,
                   item_metadata=meta, n_duplicates=n_dup, name=name)

    # ----------------------------------------------------------------- access
    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    @property
    def shape(self):
        return self.matrix.shape

    @property
    def nnz(self) -> int:
        return self.matrix.nnz

    @property
    def density(self) -> float:
        return self.nnz / float(self.n_users * self.n_items)

    @property
    def weights(self) -> np.ndarray:
        return self.matrix.data

    def user_index(self, external):
        """Internal ids of external user ids (array-like or scalar)."""
        return _lookup(self.user_ids, external, "user")

    def item_index(self, external):
        """Internal ids of external item ids (array-like or scalar)."""
        return _lookup(self.item_ids, external, "item")

    def user_counts(self) -> np.ndarray:
        """Number of stored interactions per user (row lengths)."""
        return np.diff(self.matrix.indptr)

    def item_counts(self) -> np.ndarray:
        """Number of stored interactions per item (column counts)."""
        return np.bincount(self.matrix.indices, minlength=self.n_items)

    def entry_users(self) -> np.ndarray:
        """The internal user of every stored interaction, aligned with ``matrix.data``."""
        dtype = np.int32 if self.n_users < np.iinfo(np.int32).max else np.int64
        return np.repeat(np.arange(self.n_users, dtype=dtype), self.user_counts())

    def to_pandas(self) -> pd.DataFrame:
        """One row per interaction: user, item (external ids), weight[, timestamp]."""
        out = pd.DataFrame({
            "user": self.user_ids[self.entry_users()],
            "item": self.item_ids[self.matrix.indices],
            "weight": self.matrix.data,
        })
        if self.timestamps is not None:
            out["timestamp"] = self.timestamps
        return out

    # -------------------------------------------------------------- derive
    def with_matrix(self, matrix, timestamps=None) -> "Interactions":
        """A new Interactions over the same id spaces (``matrix`` must be canonical CSR)."""
        return Interactions(matrix, self.user_ids, self.item_ids, timestamps=timestamps,
                            item_metadata=self.item_metadata, name=self.name)

    def select(self, mask) -> "Interactions":
        """The stored interactions where ``mask`` is true, over the same index space.

        ``mask`` is a boolean array with one entry per stored interaction (CSR
        order, as ``matrix.data``). Weights and timestamps of the kept entries
        are carried over; the shape, ids and item metadata stay the same. The
        splits build their parts with this.
        """
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != (self.nnz,):
            raise ValueError(f"mask must be a boolean array of length nnz={self.nnz}, got "
                             f"dtype {mask.dtype} and shape {mask.shape}")
        m = self.matrix
        # kept-entry count before each row start = the new indptr
        kept_before = np.zeros(self.nnz + 1, dtype=np.int64)
        np.cumsum(mask, out=kept_before[1:])
        indptr = kept_before[m.indptr]
        out = sp.csr_matrix((m.data[mask], m.indices[mask], indptr), shape=m.shape)
        out.has_sorted_indices = True
        _shrink_index_dtype(out)
        ts = None if self.timestamps is None else self.timestamps[mask]
        return self.with_matrix(out, timestamps=ts)

    def binarize(self, threshold) -> "Interactions":
        """Keep the interactions with weight >= ``threshold``, each with weight 1.

        E.g. ``ratings.binarize(4)`` keeps ratings of 4 and above as positives.
        The index space (shape, ids, metadata) is unchanged, so users or items
        may end up with no interaction; timestamps of kept entries are kept.
        """
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
                or not np.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
        out = self.select(self.matrix.data >= threshold)
        out.matrix.data[:] = 1.0
        return out

    def k_core(self, min_user: int = 1, min_item: int | None = None) -> "Interactions":
        """The k-core: users with >= ``min_user`` and items with >= ``min_item`` interactions.

        Dropping a user lowers its items' counts and vice versa, so the filter
        repeats until no count falls below its threshold (as in the usual
        "14-core" preparation of Amazon data). ``min_item`` defaults to
        ``min_user``. Unlike :meth:`select`, this re-indexes: the users and
        items left without interactions are removed, and ``user_ids``,
        ``item_ids``, ``item_metadata`` and ``timestamps`` follow.
        """
        if min_item is None:
            min_item = min_user
        for arg, val in (("min_user", min_user), ("min_item", min_item)):
            if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
                raise ValueError(f"{arg} must be an integer >= 1, got {val!r}")
        users = self.entry_users()
        items = self.matrix.indices
        keep = np.ones(self.nnz, dtype=bool)
        while True:
            ucount = np.bincount(users[keep], minlength=self.n_users)
            icount = np.bincount(items[keep], minlength=self.n_items)
            drop = keep & ((ucount[users] < min_user) | (icount[items] < min_item))
            if not drop.any():
                break
            keep &= ~drop
        if not keep.any():
            raise ValueError(f"no interaction survives the k-core filter with "
                             f"min_user={min_user}, min_item={min_item}")
        part = self.select(keep).matrix
        keep_users = ucount > 0
        keep_items = icount > 0
        # dropped rows are empty now, so the new indptr is the old one at kept row ends
        indptr = np.concatenate([[0], part.indptr[1:][keep_users]])
        # a monotone column map keeps each row's indices sorted
        new_col = np.cumsum(keep_items) - 1
        m = sp.csr_matrix((part.data, new_col[part.indices], indptr),
                          shape=(int(keep_users.sum()), int(keep_items.sum())))
        m.has_sorted_indices = True
        _shrink_index_dtype(m)
        meta = None
        if self.item_metadata is not None:
            meta = self.item_metadata.iloc[np.flatnonzero(keep_items)]
        ts = None if self.timestamps is None else self.timestamps[keep]
        return Interactions(m, self.user_ids[keep_users], self.item_ids[keep_items],
                            timestamps=ts, item_metadata=meta, name=self.name)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return (f"Interactions({name}users={self.n_users:,}, items={self.n_items:,}, "
                f"interactions={self.nnz:,}, density={self.density:.4%})")

    def __len__(self) -> int:
        return self.nnz


def as_csr(data, name: str, shape=None) -> sp.csr_matrix:
    """The canonical CSR matrix (sorted indices, no duplicates, no stored
    zeros) behind an Interactions or a scipy sparse matrix.

    Trainers, samplers and metrics read every stored entry as a positive,
    whatever its value, so a raw matrix is checked here once for all of
    them: NaN, infinite or negative values are refused, and explicit zeros
    are dropped (a stored 0 is "no interaction" in scipy's convention, as in
    :meth:`Interactions.from_csr`). An Interactions was checked when it was
    built and is taken as it is. The input is never modified; a copy is made
    only when something has to change.

    Parameters
    ----------
    data : Interactions or scipy.sparse matrix
        Users x items.
    name : str
        The argument ``data`` was passed as, for the error messages.
    shape : tuple of int, optional
        (n_users, n_items) the matrix must have.

    Returns
    -------
    scipy.sparse.csr_matrix

    Raises
    ------
    TypeError
        ``data`` is neither, or its values are not real numbers.
    ValueError
        Wrong shape, or NaN, infinite or negative values (counted in the message).
    """
    raw = not isinstance(data, Interactions)
    if not raw:
        m = data.matrix
    elif sp.issparse(data):
        m = data if sp.isspmatrix_csr(data) else sp.csr_matrix(data)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"{name} has values of dtype {m.dtype}; expected real numbers "
                            "(interaction weights)")
        bad = _bad_values(m.data)
        if bad:
            raise ValueError(f"{name} has {bad}; interaction values (weights) must be finite "
                             "and non-negative")
    else:
        raise TypeError(f"{name} must be an Interactions or a scipy.sparse matrix, "
                        f"got {type(data).__name__}")
    if shape is not None and tuple(m.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(m.shape)} but the model scores "
                         f"{shape[0]:,} users x {shape[1]:,} items")
    copied = False
    if not m.has_canonical_format:
        m = m.copy()
        copied = True
        m.sum_duplicates()   # sorts the indices too
    if raw and m.nnz and not m.data.all():
        if not copied:
            m = m.copy()
        m.eliminate_zeros()
    return m


def _bad_values(values) -> str:
    """How many of ``values`` are NaN, infinite or negative, as text ("2 NaN
    and 1 negative values"); empty when none is."""
    if values.size == 0 or values.dtype.kind in "bu":
        return ""
    low, high = values.min(), values.max()
    if low >= 0 and high < np.inf:      # the common case: two passes, no temporaries
        return ""
    counts = [(0, "NaN"), (0, "infinite"), (int(np.count_nonzero(values < 0)), "negative")]
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        n_nan = int(np.count_nonzero(np.isnan(values)))
        n_inf = values.size - int(np.count_nonzero(finite)) - n_nan
        counts = [(n_nan, "NaN"), (n_inf, "infinite"),
                  (int(np.count_nonzero((values < 0) & finite)), "negative")]
    parts = [f"{n:,} {what}" for n, what in counts if n]
    total = sum(n for n, _ in counts)
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{text} value{'s' * (total != 1)}"


def _timestamps_column(s: pd.Series, col: str) -> np.ndarray:
    """An int64 array from an integer or datetime column; anything lossy raises."""
    if s.isna().any():
        raise ValueError(f"timestamp column {col!r} has {int(s.isna().sum())} missing values")
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return s.dt.as_unit("ns").to_numpy().astype(np.int64)
    t = pd.to_numeric(s, errors="coerce")
    if t.isna().any():
        raise ValueError(f"timestamp column {col!r} has non-numeric values")
    t = t.to_numpy()
    if t.dtype.kind == "f":
        if not np.isfinite(t).all() or np.any(t != np.floor(t)):
            raise ValueError(f"timestamp column {col!r} has non-integer values; convert them "
                             "to integers (e.g. milliseconds) or datetimes first")
    return t.astype(np.int64)


def _shrink_index_dtype(m: sp.csr_matrix) -> None:
    """int32 indices where they fit (scipy may pick int64 for large inputs)."""
    if m.nnz < np.iinfo(np.int32).max and max(m.shape) < np.iinfo(np.int32).max:
        m.indices = m.indices.astype(np.int32, copy=False)
        m.indptr = m.indptr.astype(np.int32, copy=False)


def _lookup(index: pd.Index, external, kind: str):
    scalar = np.isscalar(external)
    values = [external] if scalar else list(external)
    pos = index.get_indexer(values)
    if (pos < 0).any():
        missing = [v for v, p in zip(values, pos) if p < 0][:5]
        raise KeyError(f"unknown {kind} ids: {missing}")
    return int(pos[0]) if scalar else pos
