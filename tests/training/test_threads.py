"""The training threads: contiguous shares of the blocks, scratch of their own."""
import numpy as np
import pytest

import recsample as rs
from recsample._threads import shares


@pytest.mark.parametrize("n, parts", [(10, 3), (7, 7), (5, 1), (1, 4), (100, 8)])
def test_shares_cut_a_range_as_array_split_does(n, parts):
    want = [(int(a[0]), int(a[-1]) + 1) for a in np.array_split(np.arange(n), min(parts, n))]
    assert shares(n, parts) == want


def test_no_work_is_one_empty_share():
    assert shares(0, 4) == [(0, 0)]


@pytest.mark.parametrize("sampler, fields", [
    (rs.samplers.WARP(), ("weights",)),
    (rs.samplers.KOS(), ("weights",)),
    (rs.samplers.DNS(candidates=300, rho=1.0), ("keys", "slots")),  # > MAX_RANKED
])
def test_each_thread_draws_with_scratch_of_its_own(movielens, sampler, fields):
    """Samplers that keep a value between a draw and its pair (WARP's weight)
    or rank candidates in a buffer (Softmax-v) give each training thread its
    own part of it: two threads writing one slot would mix their pairs."""
    state = sampler.prepare(movielens, n_factors=8)
    a = sampler.worker_state(state, 0)
    b = sampler.worker_state(state, 1)
    for name in fields:
        whole, x, y = getattr(state, name), getattr(a, name), getattr(b, name)
        assert x.size and y.size and type(x) is type(whole)
        assert x.dtype == whole.dtype and x.ndim == whole.ndim and x.flags.c_contiguous
        assert np.shares_memory(x, whole) and not np.shares_memory(x, y)


def test_a_sampler_without_scratch_shares_its_state(movielens):
    sampler = rs.samplers.Uniform()
    state = sampler.prepare(movielens)
    assert sampler.worker_state(state, 1) is state
