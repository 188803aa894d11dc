"""The user x item interaction matrix every other part of recsample reads."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Interactions"]


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
    Optional ``timestamps`` is an int64 array aligned with ``matrix.data``.

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
                raise ValueError("timestamps must have one entry per stored interaction")
        self.timestamps = timestamps
        self.item_metadata = item_metadata
        #: how many duplicated (user, item) rows were aggregated when this was built
        self.n_duplicates = int(n_duplicates)
        self.name = name

    # ------------------------------------------------------------------ build
    @classmethod
    def from_csr(cls, matrix, user_ids=None, item_ids=None, timestamps=None, name=None):
        """Wrap a users x items sparse matrix (any scipy format).

        Duplicate entries are summed, explicit zeros are removed, indices are
        sorted. Values must be finite and non-negative.
        """
        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}")
        m = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
        if m.shape[0] == 0 or m.shape[1] == 0:
            raise ValueError(f"matrix must have at least one user and one item, got shape {m.shape}")
        if m.data.size and (not np.all(np.isfinite(m.data)) or m.data.min() < 0):
            raise ValueError("matrix values (weights) must be finite and non-negative")
        if timestamps is not None and not (m.has_canonical_format and m.nnz == len(timestamps)):
            raise ValueError("timestamps can only be given with a canonical CSR matrix "
                             "(sorted indices, no duplicates) of the same nnz")
        before = m.nnz
        m.sum_duplicates()
        n_dup = before - m.nnz
        if np.any(m.data == 0):
            keep = m.data != 0
            if timestamps is not None:
                timestamps = np.asarray(timestamps)[keep]
            m.eliminate_zeros()
        m.sort_indices()
        _shrink_index_dtype(m)
        return cls(m, user_ids, item_ids, timestamps=timestamps, n_duplicates=n_dup, name=name)

    @classmethod
    def from_pandas(cls, df: pd.DataFrame, user: str = "user_id", item: str = "item_id",
                    weight: str | None = None, timestamp: str | None = None,
                    item_metadata: pd.DataFrame | None = None, name=None):
        """Build from rows of (user, item[, weight][, timestamp]).

        Ids may be strings or integers; internal ids follow the sorted external
        ids. Duplicate (user, item) rows are aggregated: weights summed,
        latest timestamp kept; their number is stored in ``n_duplicates``.
        Without ``weight`` every interaction has weight 1.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
        if len(df) == 0:
            raise ValueError("df is empty: need at least one interaction")
        for arg, col in (("user", user), ("item", item), ("weight", weight), ("timestamp", timestamp)):
            if col is not None and col not in df.columns:
                raise ValueError(f"{arg}={col!r} is not a column of df; columns are {list(df.columns)}")
        for arg, col in (("user", user), ("item", item)):
            s = df[col]
            if s.isna().any():
                raise ValueError(f"{arg} column {col!r} has {int(s.isna().sum())} missing ids")
            if pd.api.types.is_numeric_dtype(s) and (s < 0).any():
                raise ValueError(f"{arg} column {col!r} has negative ids")
        if weight is not None:
            w = pd.to_numeric(df[weight], errors="coerce")
            if w.isna().any() or not np.isfinite(w.to_numpy(dtype=float)).all():
                raise ValueError(f"weight column {weight!r} has missing or non-numeric values")
            if (w < 0).any():
                raise ValueError(f"weight column {weight!r} has negative values")
            w = w.to_numpy(dtype=np.float64)
        else:
            w = np.ones(len(df), dtype=np.float64)
        ucodes, uniq_u = pd.factorize(df[user], sort=True)
        icodes, uniq_i = pd.factorize(df[item], sort=True)
        frame = pd.DataFrame({"u": ucodes, "i": icodes, "w": w})
        if timestamp is not None:
            ts = df[timestamp]
            if pd.api.types.is_datetime64_any_dtype(ts):
                ts = ts.astype("int64")
            ts = pd.to_numeric(ts, errors="coerce")
            if ts.isna().any():
                raise ValueError(f"timestamp column {timestamp!r} has missing or non-numeric values")
            frame["t"] = ts.to_numpy(dtype=np.int64)
        grouped = frame.groupby(["u", "i"], sort=True)
        agg = grouped.agg(w=("w", "sum"), **({"t": ("t", "max")} if timestamp is not None else {}))
        n_dup = len(frame) - len(agg)
        uu = agg.index.get_level_values(0).to_numpy()
        ii = agg.index.get_level_values(1).to_numpy()
        m = sp.csr_matrix((agg["w"].to_numpy(np.float32), (uu, ii)),
                          shape=(len(uniq_u), len(uniq_i)))
        # rows of agg are sorted by (u, i), which is exactly CSR order
        ts_arr = agg["t"].to_numpy(np.int64) if timestamp is not None else None
        if np.any(m.data == 0):
            raise ValueError(f"weight column {weight!r} sums to 0 for some (user, item) pairs; "
                             "drop those rows first or they would be lost silently")
        m.sort_indices()
        _shrink_index_dtype(m)
        meta = None
        if item_metadata is not None:
            meta = item_metadata.reindex(uniq_i)
        return cls(m, user_ids=uniq_u, item_ids=uniq_i, timestamps=ts_arr,
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
        return np.diff(self.matrix.indptr)

    def item_counts(self) -> np.ndarray:
        return np.bincount(self.matrix.indices, minlength=self.n_items)

    def to_pandas(self) -> pd.DataFrame:
        """One row per interaction: user, item (external ids), weight[, timestamp]."""
        coo = self.matrix.tocoo()
        out = pd.DataFrame({
            "user": self.user_ids[coo.row],
            "item": self.item_ids[coo.col],
            "weight": coo.data,
        })
        if self.timestamps is not None:
            out["timestamp"] = self.timestamps
        return out

    def with_matrix(self, matrix, timestamps=None) -> "Interactions":
        """A new Interactions over the same id spaces (used by splits)."""
        out = Interactions(matrix, self.user_ids, self.item_ids, timestamps=timestamps,
                           item_metadata=self.item_metadata, name=self.name)
        return out

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return (f"Interactions({name}users={self.n_users:,}, items={self.n_items:,}, "
                f"interactions={self.nnz:,}, density={self.density:.4%})")

    def __len__(self) -> int:
        return self.nnz


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
