"""SRNS picks, among a uniform subset of the user's memory, the candidate with
the largest sigma(x_uk - x_ui) + alpha_t * sd over epochs of that hardness, and
refreshes the memory by score at every epoch's end."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import recsample as rs
from recsample.samplers import SRNS
from recsample.samplers.base import positives_of, run_refresh, sample_users

P_MIN = 1e-4   # goodness of fit fails by chance once in 10,000 runs; seeds are fixed


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.fixture
def setup():
    """One user owning item 0 (score 0) of 8; a memory of items 1-4 with known
    score records over 3 epochs (the positive's records all 0)."""
    m = sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 8))
    x = np.array([0.0, 1.0, 0.8, 0.5, -1.0, 0.0, 0.0, 0.0])   # current scores
    U = np.ones((1, 1), dtype=np.float32)
    V = x[:, None].astype(np.float32)
    records = np.array([[1.0, 1.0, 1.0],        # item 1: hard and steady (a false negative?)
                        [0.8, -1.5, 2.0],       # item 2: hard and fluctuating
                        [0.5, 0.4, 0.6],
                        [-1.0, -1.0, -1.0]])
    return m, U, V, x, records


def prepared(m, records, alpha, warmup=0.0, subset=2):
    # fresh=0: the memory stays as set for the whole run of draws
    state = SRNS(memory=4, fresh=0, subset=subset, alpha=alpha, warmup=warmup,
                 history=3).prepare(m)
    state.items[0] = [1, 2, 3, 4]
    state.records[0] = records
    state.counts[0] = 3
    state.pos_records[0] = 0.0
    state.epochs_done[0] = 3
    return state


def expected_picks(x, records, alpha, subset):
    """P(item): `subset` slots uniform with replacement, argmax of the key
    (the first slot drawn wins a tie)."""
    h = sigmoid(x[[1, 2, 3, 4]])
    sd = sigmoid(records).std(axis=1)
    key = h + alpha * sd
    p = np.zeros(8)
    for tup in itertools.product(range(4), repeat=subset):
        best = max(range(subset), key=lambda s: (key[tup[s]], -s))
        p[1 + tup[best]] += 1
    return p / p.sum()


@pytest.mark.parametrize("alpha", [0.0, 1.5])
def test_pick_maximises_hardness_plus_alpha_times_its_spread(setup, alpha):
    m, U, V, x, records = setup
    n = 60_000
    state = prepared(m, records, alpha)
    items = sample_users(state, positives_of(m), np.zeros(n, np.int64), np.zeros(n, np.int64),
                         U, V, np.uint64(3))
    counts = np.bincount(items, minlength=8)
    assert counts[[0, 5, 6, 7]].sum() == 0
    expected = expected_picks(x, records, alpha, 2)[1:5]
    observed = counts[1:5]
    keep = expected > 0
    assert observed[~keep].sum() == 0
    assert stats.chisquare(observed[keep], expected[keep] * n).pvalue > P_MIN
    # the draws reject the distribution of the other alpha
    other = expected_picks(x, records, 1.5 - alpha, 2)[1:5]
    assert np.abs(observed / n - other).max() > 0.05


def test_spread_weight_ramps_up_over_the_warmup_epochs(setup):
    # 3 epochs done of a 300-epoch warm-up: alpha_t = 1.5 / 100, nearly plain hardness
    m, U, V, x, records = setup
    n = 60_000
    state = prepared(m, records, alpha=1.5, warmup=300.0)
    items = sample_users(state, positives_of(m), np.zeros(n, np.int64), np.zeros(n, np.int64),
                         U, V, np.uint64(3))
    counts = np.bincount(items, minlength=8)[1:5]
    expected = expected_picks(x, records, 0.015, 2)[1:5]
    keep = expected > 0
    assert stats.chisquare(counts[keep], expected[keep] * n).pvalue > P_MIN


def test_epoch_end_records_the_scores_of_memory_and_positives():
    rng = np.random.default_rng(0)
    m = sp.random(30, 200, density=0.05, format="csr", random_state=1)
    m.data[:] = 1
    U = rng.normal(size=(30, 4)).astype(np.float32)
    V = rng.normal(size=(200, 4)).astype(np.float32)
    state = SRNS(memory=6).prepare(m, seed=2)
    pos = positives_of(m)
    for epoch in range(2):
        run_refresh(state, pos, U, V, 5, epoch, True)
        V *= 2.0   # new scores for the second record
    scores = U @ V.T
    assert state.epochs_done[0] == 2
    for u in range(30):
        row = m.indices[m.indptr[u]:m.indptr[u + 1]]
        assert not set(state.items[u]) & set(row)
        for ring, scale in ((0, 0.25), (1, 0.5)):
            np.testing.assert_allclose(state.pos_records[m.indptr[u]:m.indptr[u + 1], ring],
                                       scale * scores[u, row], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(state.records[u, :, ring],
                                       scale * scores[u, state.items[u]], rtol=1e-5, atol=1e-6)
        assert (state.counts[u] == 2).all()


def test_a_fresh_item_takes_the_compared_slot_with_softmax_probability():
    # memory 1-4 (scores 1.0, 0.8, 0.5, -1.0), one slot compared, one fresh
    # uniform non-positive (items 1-7): it replaces the slot with probability
    # e^(x_j / t) / (e^(x_j / t) + e^(x_k / t)); item 5-7 score 0
    m = sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 8))
    x = np.array([0.0, 1.0, 0.8, 0.5, -1.0, 0.0, 0.0, 0.0])
    U = np.ones((1, 1), dtype=np.float32)
    V = x[:, None].astype(np.float32)
    t = 0.5
    outcomes = {}
    trials = 20_000
    for seed in range(trials):
        state = SRNS(memory=4, fresh=1, subset=1, temperature=t).prepare(m)
        state.items[0] = [1, 2, 3, 4]
        sample_users(state, positives_of(m), np.zeros(1, np.int64), np.zeros(1, np.int64),
                     U, V, np.uint64(seed))
        changed = tuple(int(a) for a in state.items[0])
        outcomes[changed] = outcomes.get(changed, 0) + 1
    expected = {}
    for k in range(4):
        for j in range(1, 8):
            take = 1.0 / (1.0 + np.exp((x[1 + k] - x[j]) / t))
            after = [1, 2, 3, 4]
            after[k] = j
            expected[tuple(after)] = expected.get(tuple(after), 0.0) + take / 28
            expected[(1, 2, 3, 4)] = expected.get((1, 2, 3, 4), 0.0) + (1 - take) / 28
    assert set(outcomes) <= set(expected)
    keys = sorted(expected)
    observed = np.array([outcomes.get(key, 0) for key in keys])
    probs = np.array([expected[key] for key in keys])
    assert stats.chisquare(observed, probs * trials).pvalue > P_MIN


@pytest.mark.parametrize("kwargs, message", [
    (dict(memory=0), "memory"), (dict(fresh=-1), "fresh"), (dict(fresh=None), "fresh"), (dict(subset=0), "subset"),
    (dict(subset=65), "subset"), (dict(alpha=-0.1), "alpha"), (dict(warmup=float("inf")), "warmup"),
    (dict(history=1), "history"), (dict(history=256), "history"),
    (dict(temperature=0.0), "temperature"),
])
def test_bad_srns_parameters_name_the_argument(kwargs, message):
    m = sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 5))
    with pytest.raises(ValueError, match=message):
        SRNS(**kwargs).prepare(m)


def test_spread_is_the_sd_of_the_latest_records_round_the_ring():
    """With fewer records than the ring holds and the latest one not in the
    ring's last place, the spread is the sd of sigmoid(x_uk - x_ui) over the
    latest c epochs only, read backwards round the ring."""
    from recsample.samplers.srns import hardness_spread
    rng = np.random.default_rng(4)
    T = 5
    records = rng.normal(size=(2, 3, T)).astype(np.float32)
    pos_records = rng.normal(size=(4, T)).astype(np.float32)
    counts = np.array([[3, 1, 5], [2, 4, 0]], dtype=np.uint8)
    for done in (6, 7, 9, 13):
        for u, k, p in itertools.product(range(2), range(3), range(4)):
            c = int(counts[u, k])
            rings = [(done - 1 - t) % T for t in range(c)]
            h = 1.0 / (1.0 + np.exp(-(records[u, k, rings].astype(np.float64)
                                      - pos_records[p, rings])))
            expected = h.std() if c >= 2 else 0.0
            got = hardness_spread(records, counts, pos_records, u, k, p, done)
            assert got == pytest.approx(expected, abs=1e-7), (done, u, k, p)
