"""k-OS trains the k-th highest-scored of K positives sampled from the user
(without replacement), with WARP's negative and rank weight; pair losses only."""
from math import comb

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import recsample as rs
from recsample.samplers import KOS, WARP
from helpers import Factors

P_MIN = 1e-4   # goodness of fit fails by chance once in 10,000 runs; seeds are fixed
N_POS = 8      # the user's positives are items 0..7, scored 8, 7, ..., 1
N_ITEMS = 30


@pytest.fixture
def catalogue():
    """One user owning items 0-7 of 30; x_u0 = 8 > x_u1 = 7 > ... > x_u7 = 1,
    every non-positive 0."""
    m = sp.csr_matrix((np.ones(N_POS), ([0] * N_POS, range(N_POS))), shape=(1, N_ITEMS))
    x = np.zeros(N_ITEMS)
    x[:N_POS] = np.arange(N_POS, 0, -1)
    return rs.Interactions.from_csr(m), Factors(np.ones((1, 1)), x[:, None])


def kth_of_K(K, k, n=N_POS):
    """P(positive r is chosen), r = 0 the highest-scored: r is the k-th of a
    uniform K-subset when k - 1 of the subset lie above it and K - k below."""
    return np.array([comb(r, k - 1) * comb(n - 1 - r, K - k) for r in range(n)]) / comb(n, K)


@pytest.mark.parametrize("K, k", [(3, 1), (3, 2), (4, 4), (5, 3)])
def test_chosen_positive_is_the_kth_of_K_sampled(catalogue, K, k):
    data, model = catalogue
    n = 60_000
    chosen = KOS(n_positives=K, k=k).sample_positives(
        data, np.zeros(n, int), seed=3, model=model)
    counts = np.bincount(chosen, minlength=N_ITEMS)
    assert counts[N_POS:].sum() == 0                      # always one of the user's positives
    expected = kth_of_K(K, k) * n
    support = expected > 0
    assert counts[:N_POS][~support].sum() == 0            # never a rank the definition excludes
    assert stats.chisquare(counts[:N_POS][support], expected[support]).pvalue > P_MIN
    # the same counts are far from the definition with a neighbouring k
    other = kth_of_K(K, k + 1 if k < K else k - 1) * n
    assert (counts[:N_POS][other == 0] > 0).any() or \
        stats.chisquare(counts[:N_POS][other > 0], other[other > 0] * counts.sum()
                        / other[other > 0].sum()).pvalue < 1e-12


def test_K_beyond_the_users_positives_takes_the_kth_of_all(catalogue):
    data, model = catalogue
    chosen = KOS(n_positives=20, k=3).sample_positives(
        data, np.zeros(100, int), seed=0, model=model)
    assert np.all(chosen == 2)
    # fewer positives than k: the lowest-scored one
    chosen = KOS(n_positives=20, k=12).sample_positives(
        data, np.zeros(100, int), seed=0, model=model)
    assert np.all(chosen == N_POS - 1)


def test_negatives_are_warps_for_the_given_positive(catalogue):
    # the draw is WARP's: same stream, same items, same weights
    data, model = catalogue
    users = np.zeros(2000, int)
    positives = np.full(2000, 7)
    a, wa = KOS().sample_weighted(data, users, positives, seed=2, model=model)
    b, wb = WARP().sample_weighted(data, users, positives, seed=2, model=model)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(wa, wb)
    assert a.min() >= N_POS


def test_never_a_training_positive_as_negative_in_training(movielens_split):
    # pairs are trained on the chosen positive; check every draw of one epoch's
    # visits through the Python entry point on the trained model's factors
    train, _ = movielens_split
    model = rs.BPR(factors=8, epochs=2, learning_rate=0.01, sampler=KOS(), seed=0,
                   n_threads=1).fit(train, progress=False)
    m = train.matrix
    users = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    chosen = KOS().sample_positives(train, users, seed=1, model=model)
    assert np.count_nonzero(np.asarray(m[users, chosen]).ravel()) == users.shape[0]
    negatives = KOS().sample(train, users, seed=1, model=model, positives=chosen)
    assert np.count_nonzero(np.asarray(m[users, negatives]).ravel()) == 0


@pytest.mark.parametrize("trainer", [rs.BPR, rs.BPO])
def test_changing_k_changes_training(movielens_split, trainer):
    # the chosen positive reaches the loop: k = 1 and k = K train differently
    train, _ = movielens_split
    fits = [trainer(factors=8, epochs=1, learning_rate=0.01, sampler=KOS(n_positives=10, k=k),
                    seed=0, n_threads=1).fit(train, progress=False) for k in (1, 10)]
    assert not np.array_equal(fits[0].item_factors, fits[1].item_factors)


@pytest.mark.parametrize("model", [
    lambda: rs.Softmax(sampler=KOS(), epochs=1),
    lambda: rs.CCL(sampler=KOS(), epochs=1),
    lambda: rs.BPR(sampler=KOS(), epochs=1, similarity="cosine", use_bias=False),
])
def test_group_losses_refuse_it_naming_the_sampler(movielens_split, model):
    train, _ = movielens_split
    with pytest.raises(ValueError, match="KOS.*chooses the positive"):
        model().fit(train, progress=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_positives": 0}, "n_positives must be"), ({"n_positives": 129}, "n_positives must be"),
    ({"n_positives": 2.5}, "n_positives must be"), ({"n_positives": 4, "k": 5}, "k must be"),
    ({"k": 0}, "k must be"), ({"k": True}, "k must be"),
    ({"max_draws": 0}, "max_draws must be"), ({"margin": -1.0}, "margin must be"),
])
def test_bad_parameters_name_the_argument(catalogue, kwargs, message):
    data, model = catalogue
    with pytest.raises(ValueError, match=message):
        KOS(**kwargs).sample_positives(data, [0], seed=0, model=model)


def test_needs_the_model(catalogue):
    data, _ = catalogue
    with pytest.raises(ValueError, match="model="):
        KOS().sample_positives(data, [0], seed=0)
