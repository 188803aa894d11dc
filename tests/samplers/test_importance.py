"""Importance resampling returns one of C proposal draws with probability
softmax(x / t - ln q), and reports the proposal's ln q as its log_q."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import recsample as rs
from recsample.samplers import Importance
from recsample.samplers.base import log_q_users, positives_of
from helpers import Factors

P_MIN = 1e-4   # goodness of fit fails by chance once in 10,000 runs; seeds are fixed


@pytest.fixture
def catalogue():
    """User 0 owns item 4 of 5; items 0-3 have 1, 2, 3, 6 interactions
    (users 1-6 supply them) and scores 0, 1, 0.5, 1.5 for user 0."""
    rows, cols = [0], [4]
    for item, count in enumerate([1, 2, 3, 6]):
        rows += list(range(1, 1 + count))
        cols += [item] * count
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(7, 5))
    x = np.array([0.0, 1.0, 0.5, 1.5, 9.0])
    U = np.ones((7, 1))
    return rs.Interactions.from_csr(m), Factors(U, x[:, None]), x


def resampled(x, q, candidates, t, correct=True):
    """P(j): ordered C-tuples from q, the pick a softmax over the tuple of
    x / t - ln q (or x / t alone with correct=False)."""
    free = np.flatnonzero(q > 0)
    p = np.zeros(len(x))
    for tup in itertools.product(free, repeat=candidates):
        weight = np.prod(q[list(tup)])
        logits = x[list(tup)] / t - (np.log(q[list(tup)]) if correct else 0.0)
        s = np.exp(logits - logits.max())
        s /= s.sum()
        for k, j in enumerate(tup):
            p[j] += weight * s[k]
    return p / p.sum()


@pytest.mark.parametrize("proposal", ["uniform", "popularity"])
def test_pick_is_softmax_of_score_minus_log_proposal(catalogue, proposal):
    data, model, x = catalogue
    counts_pop = np.array([1, 2, 3, 6, 0], dtype=float)
    q = counts_pop ** 0.75 if proposal == "popularity" else np.array([1, 1, 1, 1, 0.0])
    q /= q.sum()
    t, n = 0.5, 150_000
    items = Importance(candidates=3, proposal=proposal, temperature=t).sample(
        data, np.zeros(n, int), seed=8, model=model)
    counts = np.bincount(items, minlength=5)
    assert counts[4] == 0
    expected = resampled(x, q, 3, t)
    assert stats.chisquare(counts[:4], n * expected[:4]).pvalue > P_MIN
    # the draws reject a neighbouring temperature
    other = resampled(x, q, 3, 2 * t)
    assert stats.chisquare(counts[:4], n * other[:4]).pvalue < 1e-12


def test_popularity_proposal_is_corrected_for(catalogue):
    # without the -ln q term the popular item 3 would be drawn more often
    data, model, x = catalogue
    q = np.array([1, 2, 3, 6, 0], dtype=float) ** 0.75
    q /= q.sum()
    n = 150_000
    items = Importance(candidates=3, proposal="popularity", temperature=0.5).sample(
        data, np.zeros(n, int), seed=8, model=model)
    counts = np.bincount(items, minlength=5)
    uncorrected = resampled(x, q, 3, 0.5, correct=False)
    assert stats.chisquare(counts[:4], n * uncorrected[:4]).pvalue < 1e-12


def test_log_q_is_the_proposal_probability(catalogue):
    data, _, _ = catalogue
    pos = positives_of(data.matrix)
    users = np.zeros(4, dtype=np.int64)
    items = np.arange(4, dtype=np.int64)
    uni = log_q_users(Importance().prepare(data), pos, users, items)
    np.testing.assert_allclose(uni, np.log(np.full(4, 0.25)))
    pop = log_q_users(Importance(proposal="popularity", alpha=1.0).prepare(data), pos, users,
                      items)
    np.testing.assert_allclose(pop, np.log(np.array([1, 2, 3, 6]) / 12.0))


@pytest.mark.parametrize("kwargs, message", [
    (dict(candidates=0), "candidates"), (dict(proposal="zipf"), "proposal"),
    (dict(temperature=0.0), "temperature"), (dict(proposal="popularity", alpha=-1.0), "alpha"),
])
def test_bad_importance_parameters_name_the_argument(catalogue, kwargs, message):
    data, model, _ = catalogue
    with pytest.raises(ValueError, match=message):
        Importance(**kwargs).sample(data, [0], seed=0, model=model)
