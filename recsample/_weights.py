"""Interaction weights for training: the checks of ``fit(sample_weight=)``
and the per-epoch draw of how often each positive is visited.

A weight w_ui >= 0 of a training positive sets how often the sampled
trainers visit it: an epoch still takes nnz visits, positive (u, i) getting
``nnz * w_ui / sum(w)`` of them in expectation (floor or ceiling of it,
systematic sampling, a new draw every epoch). The expected epoch gradient
is then that of the weighted loss sum_ui (w_ui / mean(w)) l_ui, at the cost
of an unweighted epoch. Every positive, whatever its weight, stays a
positive: it is never drawn as a negative.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: the stream apart from the model's own generator that draws the visits
_VISITS_STREAM = 0x57454947


def resolve_sample_weight(sample_weight, train, matrix) -> np.ndarray | None:
    """The weights, float64 and aligned with ``matrix.data`` (the canonical
    CSR of ``train``), or None for unweighted training.

    ``sample_weight`` is None, ``"values"`` (the stored values of ``train``),
    an array with one weight per stored entry of ``matrix`` (row by row,
    ascending item index within a row: ``matrix.data``'s order), or a sparse
    matrix with exactly ``matrix``'s pattern."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, str):
        if sample_weight != "values":
            raise ValueError(f"sample_weight must be None, 'values', an array or a sparse "
                             f"matrix, got the string {sample_weight!r}")
        w = np.asarray(matrix.data, dtype=np.float64)
    elif sp.issparse(sample_weight):
        W = sp.csr_matrix(sample_weight)
        if W.shape != matrix.shape:
            raise ValueError(f"sample_weight has shape {W.shape}, train has {matrix.shape}")
        if not W.has_canonical_format:
            W = W.copy()
            W.sum_duplicates()
        if W.nnz != matrix.nnz or not (np.array_equal(W.indptr, matrix.indptr)
                                       and np.array_equal(W.indices, matrix.indices)):
            raise ValueError(
                f"sample_weight must store a weight for exactly the entries of train "
                f"({matrix.nnz:,}); it stores {W.nnz:,} with a different pattern (a stored "
                "zero weight counts as an entry: keep it stored)")
        w = np.asarray(W.data, dtype=np.float64)
    else:
        try:
            w = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"sample_weight must be None, 'values', an array or a sparse "
                            f"matrix, got {type(sample_weight).__name__}") from None
        if w.ndim != 1 or w.shape[0] != matrix.nnz:
            raise ValueError(f"sample_weight must have one weight per training interaction "
                             f"({matrix.nnz:,}, in the order of train's stored entries), "
                             f"got shape {w.shape}")
    bad = []
    for what, mask in (("NaN", np.isnan(w)), ("infinite", np.isinf(w)), ("negative", w < 0)):
        n = int(mask.sum())
        if n:
            first = int(np.flatnonzero(mask)[0])
            bad.append(f"{n:,} {what} (first at entry {first:,}: {w[first]!r})")
    if bad:
        raise ValueError(f"sample_weight has {', '.join(bad)}; weights must be finite and "
                         ">= 0")
    if not w.any():
        raise ValueError("sample_weight is zero everywhere: no positive would be trained")
    return w


def visit_counts(weights, seed, epoch) -> np.ndarray:
    """How often each positive is visited in ``epoch``: int64 counts summing
    to ``len(weights)``, each the floor or ceiling of its share
    ``len(weights) * w / sum(w)`` (systematic sampling with one uniform
    offset, drawn from (seed, epoch) on a stream of its own)."""
    n = weights.shape[0]
    cum = np.cumsum(weights, dtype=np.float64)
    cum *= n / cum[-1]
    offset = np.random.default_rng([int(seed), int(epoch), _VISITS_STREAM]).random()
    # visit t lands at position offset + t; entry e gets the visits in
    # [cum[e-1], cum[e]): floor(cum[e] - offset) + 1 of them counted so far
    reach = np.floor(cum - offset).astype(np.int64) + 1
    np.clip(reach, 0, n, out=reach)
    reach[-1] = n
    return np.diff(reach, prepend=0)


def weighted_rows(matrix, counts):
    """``(indptr, indices)`` of ``matrix`` with each stored entry repeated
    ``counts`` times (an entry of count 0 left out): the positives an epoch
    visits, row by row."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    row_totals = np.bincount(rows, weights=counts, minlength=matrix.shape[0]).astype(np.int64)
    indptr = np.zeros(matrix.shape[0] + 1, dtype=matrix.indptr.dtype)
    np.cumsum(row_totals, out=indptr[1:])
    indices = np.repeat(matrix.indices, counts)
    return indptr, indices
