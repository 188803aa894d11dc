"""A sampler defined outside the package plugs into every trainer unchanged."""
from collections import namedtuple

import numpy as np
import scipy.sparse as sp
from numba import njit

import recsample as rs
from recsample._rng import stream
from recsample.samplers.base import (Sampler, draw, implements, is_positive, peek, prefetch,
                                     uniform_negative)

# the highest-numbered item that is not a positive of the user
LastFreeState = namedtuple("LastFreeState", [])


@implements(draw, LastFreeState)
def _draw_last_free(state, pos, u, i, U, V, rng):
    for j in range(pos.n_items - 1, -1, -1):
        if not is_positive(pos, u, j):
            return j
    return -1


class LastFree(Sampler):
    name = "last-free"

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        return LastFreeState()


def test_custom_sampler_draws_from_python_and_trains_both_models():
    m = sp.csr_matrix(np.array([[1, 0, 1, 1], [0, 1, 0, 0], [1, 1, 1, 1]], dtype=np.float32))
    assert list(LastFree().sample(m, [0, 1, 2], seed=0)) == [1, 3, -1]
    for cls in (rs.BPR, rs.BPO):
        model = cls(factors=2, epochs=2, sampler=LastFree()).fit(m, progress=False)
        assert model.history_[-1]["pairs"] == 4  # user 2 owns every item: skipped
        assert model.history_[-1]["skipped"] == 4


def test_custom_state_types_stay_out_of_the_disk_cache(tmp_path):
    """Another process must still load the cached trainer after a custom
    sampler (whose module it cannot import) has been trained."""
    import os
    import subprocess
    import sys
    m = sp.csr_matrix(np.eye(4, dtype=np.float32))
    rs.BPR(factors=2, epochs=1, sampler=LastFree()).fit(m, progress=False)
    from recsample.models import _train
    assert not any("LastFree" in str(sig) for sig in _train.run_block_list.cached.signatures)
    script = ("import numpy as np, scipy.sparse as sp, recsample as rs; "
              "rs.BPR(factors=2, epochs=1).fit(sp.csr_matrix(np.eye(4, dtype=np.float32)), "
              "progress=False); print('ok')")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=dict(os.environ), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# records the (user, positive) of every draw, in the order the loop asks, and
# the pairs the trainer announces with prefetch (with the draws made before)
RecordState = namedtuple("RecordState", ["log", "count", "ahead", "ahead_count"])


@njit
def _record(log, count, u, i):
    # a function of its own: stores into a state's arrays from code inlined
    # into the parallel loop are not reliable
    c = count[0]
    log[c, 0] = u
    log[c, 1] = i
    count[0] = c + 1


@implements(draw, RecordState)
def _draw_record(state, pos, u, i, U, V, rng):
    _record(state.log, state.count, u, i)
    return uniform_negative(pos, u, rng)


@njit
def _announce(ahead, count, drawn, u, i):
    c = count[0]
    if c < ahead.shape[0]:
        ahead[c, 0] = u
        ahead[c, 1] = i
        ahead[c, 2] = drawn[0]   # draws made before the announcement
        count[0] = c + 1


@implements(prefetch, RecordState)
def _prefetch_record(state, pos, u, i, U, V):
    _announce(state.ahead, state.ahead_count, state.count, u, i)


class Record(Sampler):
    """Draws as Uniform does (not declared blind) and records every draw and
    announcement. One state type serves every test here: a custom type's
    trainer is compiled anew in each process, not loaded from the disk cache."""
    name = "record"

    def __init__(self, size):
        self.size = size

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        self.state = RecordState(np.zeros((self.size, 2), dtype=np.int64), np.zeros(1, np.int64),
                                 np.zeros((self.size, 3), dtype=np.int64), np.zeros(1, np.int64))
        return self.state


def test_visit_by_user_trains_every_positive_once_with_each_user_in_one_run():
    data = rs.datasets.synthetic(300, 200, 6000, seed=1)
    m = data.matrix
    runs = {}
    for visit in ("random", "user"):
        rec = Record(m.nnz)
        model = rs.BPR(factors=4, epochs=1, n_threads=1, visit=visit, sampler=rec)
        model.fit(data, progress=False)
        log = rec.state.log[:rec.state.count[0]]
        # every training positive exactly once
        assert len(log) == m.nnz
        got = sp.csr_matrix((np.ones(len(log)), (log[:, 0], log[:, 1])), shape=m.shape)
        assert (got != (m > 0).astype(float)).nnz == 0
        runs[visit] = 1 + int(np.count_nonzero(np.diff(log[:, 0])))
    # by user: one run per user, plus at most one more per block boundary
    # (a user's positives may straddle two of the loop's blocks)
    from recsample.models.base import BLOCK_SIZE
    n_users = len(np.unique(m.nonzero()[0]))
    assert n_users <= runs["user"] <= n_users + m.nnz // BLOCK_SIZE
    assert runs["random"] > m.nnz // 2


def test_drawing_ahead_for_a_blind_sampler_gives_the_same_model(movielens):
    """Uniform is blind (its draws read only the positives and the stream), so
    the pair loss draws each negative one pair early; the model must be the
    one drawing on demand gives, bit for bit, with one negative or several,
    in both visiting orders and with a user who owns every item (skipped).
    Record draws as Uniform does but is not declared blind."""
    from recsample.samplers.base import is_blind
    from recsample.samplers.uniform import UniformState
    from numba import typeof
    assert is_blind(typeof(UniformState()))
    assert not is_blind(typeof(Record(1).prepare(None)))
    m = movielens.matrix.tocsr()[:60].tocsr()
    m = m[:, np.unique(m.indices)].tocsr()
    full = sp.csr_matrix(np.ones((1, m.shape[1]), dtype=np.float32))
    m = sp.vstack([m, full]).tocsr()
    for kw in (dict(), dict(negatives=3), dict(visit="user", negatives=2)):
        fits = []
        for sampler in ("uniform", Record(2 * m.nnz * kw.get("negatives", 1) + 10_000)):
            model = rs.BPR(factors=8, epochs=2, n_threads=1, seed=5, sampler=sampler, **kw)
            fits.append(model.fit(m, progress=False))
        a, b = fits
        assert a.history_[-1]["skipped"] == b.history_[-1]["skipped"] > 0
        np.testing.assert_array_equal(a.item_factors, b.item_factors)
        np.testing.assert_array_equal(a.user_factors, b.user_factors)


@njit
def _peek_then_draw(state, pos, users, U, V, seed):
    """For each user: the sampler's peek, the draw, and whether peek left
    the stream where it was."""
    rng = stream(seed, 0, 0)
    out = np.empty((users.shape[0], 3), np.int64)
    for t in range(users.shape[0]):
        before = rng[0]
        out[t, 0] = peek(state, pos, rng)
        out[t, 2] = rng[0] == before
        out[t, 1] = draw(state, pos, users[t], -1, U, V, rng)
    return out


def test_peek_names_the_next_draw_when_its_first_proposal_is_taken():
    """Uniform's and Popularity's peek read their next draw's first proposal
    off the stream without advancing it. A user with no positives takes
    every first proposal, so peek and draw agree on every draw; for a user
    with positives they agree exactly when the draw was not rejected."""
    from recsample.samplers.base import positives_of
    rng = np.random.default_rng(0)
    n_items = 300
    dense = (rng.random((1, n_items)) < 0.3).astype(np.float32)
    counts = rng.integers(1, 20, size=n_items).astype(np.float32)
    m = sp.csr_matrix(np.vstack([np.zeros((1, n_items), np.float32), dense, counts[None, :]]))
    U = np.zeros((3, 2), np.float32)
    V = np.zeros((n_items, 2), np.float32)
    for sampler in (rs.samplers.Uniform(), rs.samplers.Popularity(alpha=0.75)):
        for bitmap in (True, False):
            pos = positives_of(m, bitmap=bitmap)
            state = sampler.prepare(m)
            got = _peek_then_draw(state, pos, np.zeros(2000, np.int64), U, V, 1)
            assert got[:, 2].all()
            np.testing.assert_array_equal(got[:, 0], got[:, 1])
            got = _peek_then_draw(state, pos, np.ones(2000, np.int64), U, V, 2)
            hit = got[:, 0] == got[:, 1]
            # a differing guess can only be a positive the draw rejected
            assert dense[0, got[~hit, 0]].all()
            assert 0.5 < hit.mean() < 0.9


def test_prefetch_announces_pairs_drawn_later_and_changes_nothing():
    """The trainer calls a sampler's prefetch for the pair it will visit
    PREFETCH_AHEAD pairs later in the same block: each announced pair is the
    one drawn PREFETCH_AHEAD draws after the announcement, and all but a
    block's first PREFETCH_AHEAD pairs are announced. The model is the one
    Uniform gives (whose draws Record's equal, as the test above shows, and
    which announces nothing)."""
    from recsample.models.base import BLOCK_SIZE
    from recsample.models._train import PREFETCH_AHEAD
    data = rs.datasets.synthetic(300, 200, 6000, seed=1)
    nnz = data.matrix.nnz
    fits = []
    for sampler in (Record(nnz), "uniform"):
        fits.append(rs.BPR(factors=4, epochs=1, n_threads=1, seed=2, sampler=sampler)
                    .fit(data, progress=False))
    st = fits[0].sampler_.state
    drawn = st.log[:st.count[0]]
    announced = st.ahead[:st.ahead_count[0]]
    n_blocks = -(-nnz // BLOCK_SIZE)
    assert len(drawn) == nnz
    assert len(announced) == nnz - PREFETCH_AHEAD * n_blocks
    np.testing.assert_array_equal(drawn[announced[:, 2] + PREFETCH_AHEAD], announced[:, :2])
    np.testing.assert_array_equal(fits[0].item_factors, fits[1].item_factors)
