"""The order in which an epoch visits the training positives: blocks of
``BLOCK_SIZE`` positives per random stream, the positives packed as one
int64 each, and the rule of ``visit="auto"`` (``resolve_visit``). ``fit``
and ``fold_in`` share them."""
from __future__ import annotations

import numpy as np

#: Blocks of positives per random stream. Fixed (not tied to the thread count)
#: so a seed gives the same draws with any number of threads.
BLOCK_SIZE = 4096

#: ``visit="auto"`` visits user by user above this many bytes of factor tables
#: plus training indices: there the shuffled order fetches a user's row and
#: membership data from memory for every pair, and the user order trains 1.7-2x
#: faster (README, "Scale"; at 10M interactions 71 MB, at 1M 7 MB)
AUTO_USER_BYTES = 64 * 2**20


def resolve_visit(visit, matrix, n_factors, shuffle=True, batch=False):
    """The visiting order ``visit`` means for this training matrix: itself,
    or for "auto" "user" when the factor tables (float32, a bias column
    included) and the column indices (counted as int32, whatever their
    type) exceed AUTO_USER_BYTES. "auto" stays "random" without shuffling
    (the CSR order already keeps a user's positives together) and with the
    batch optimizer (there the order decides what each batch sums)."""
    if visit != "auto":
        return visit
    if not shuffle or batch:
        return "random"
    n_users, n_items = matrix.shape
    size = 4 * (n_users + n_items) * (n_factors + 1) + 4 * matrix.nnz
    return "user" if size > AUTO_USER_BYTES else "random"


def _packed_positives(matrix):
    """Every stored (u, i) of the CSR matrix as one int64: u << 32 | i."""
    counts = np.diff(matrix.indptr)
    packed = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), counts)
    packed <<= 32
    packed |= matrix.indices  # widened in buffered chunks, no nnz-sized temporary
    return packed
