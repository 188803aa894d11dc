"""The compiled helpers of recsample._intrinsics: prefetches change no value
and accept what they promise; a borrowed array is the same array."""
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from recsample._intrinsics import borrow, prefetch_at, prefetch_read, prefetch_row


@njit
def _touch(a2, a1, a3, r):
    prefetch_row(a2, r)
    prefetch_read(a2, r)
    prefetch_row(a1, r)
    prefetch_read(a1, r)
    prefetch_at(a3, r)
    prefetch_at(a3, a3.size - 1 - r)
    prefetch_at(a3[1:], r)   # a view that starts part-way into its array
    b = borrow(a2)
    b[r, 0] += 1.0   # a borrowed array writes through to the original
    return b[r, 1] + a1[r]


def test_prefetches_change_nothing_and_borrow_writes_through():
    rng = np.random.default_rng(0)
    a2 = rng.random((37, 65)).astype(np.float32)   # rows of 260 bytes: across line ends
    a1 = rng.random(37)
    a3 = rng.random((5, 7, 3)).astype(np.float32)
    before = (a2.copy(), a1.copy(), a3.copy())
    for r in (0, 17, 36):
        got = _touch(a2, a1, a3, r)
        assert got == pytest.approx(float(a2[r, 1]) + a1[r])
    expected = before[0].copy()
    expected[[0, 17, 36], 0] += 1.0
    np.testing.assert_array_equal(a2, expected)
    np.testing.assert_array_equal(a1, before[1])
    np.testing.assert_array_equal(a3, before[2])


def test_prefetch_helpers_refuse_what_they_cannot_address():
    @njit
    def at(a):
        prefetch_at(a, 0)

    @njit
    def row(a):
        prefetch_read(a, 0)

    with pytest.raises(TypingError):
        at(np.zeros((4, 4))[:, ::2])        # not C-contiguous: no flat order
    with pytest.raises(TypingError):
        row(np.zeros((2, 2, 2)))            # rows of 1-d and 2-d arrays only
