"""AOBPR draws a rank from exp(-r / lambda), a factor in proportion to
|u_f| sd_f, and the item at that rank of the factor's ordering."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import recsample as rs
from recsample.samplers import AOBPR
from helpers import Factors

P_MIN = 1e-4   # goodness of fit fails by chance once in 10,000 runs; seeds are fixed


def empty_user(n_items):
    return rs.Interactions.from_csr(sp.csr_matrix((1, n_items), dtype=np.float32))


def test_rank_follows_exp_minus_r_over_lambda_not_a_step_function():
    # one factor, user weight > 0: the item at rank r is the r-th largest V
    n_items, rank_scale = 200, 0.03                  # lambda = 6 ranks
    V = np.linspace(1.0, -1.0, n_items)[:, None]     # item r has rank r
    model = Factors([[1.0]], V)
    n = 200_000
    items = AOBPR(rank_scale=rank_scale).sample(empty_user(n_items), np.zeros(n, int),
                                                seed=2, model=model)
    lam = rank_scale * n_items
    cut = 40                                          # lump the far tail into one cell
    counts = np.bincount(np.minimum(items, cut), minlength=cut + 1)
    r = np.arange(n_items)

    def cells(p):
        p = p / p.sum()
        return np.append(p[:cut], p[cut:].sum()) * n

    assert stats.chisquare(counts, cells(np.exp(-r / lam))).pvalue > P_MIN
    # the integer-division variant exp(-(r // 6)) is rejected by the same draws
    assert stats.chisquare(counts, cells(np.exp(-(r // int(lam))))).pvalue < 1e-12


def test_factor_is_chosen_in_proportion_to_user_weight_times_spread():
    # factor 0 is large for items 0-9, factor 1 very negative for items 10-19;
    # with short ranks the drawn item tells the factor. u = (0.5, -2.0): the
    # negative weight must order factor 1 smallest first.
    n_items = 60
    V = np.zeros((n_items, 2))
    V[:10, 0] = np.linspace(3.0, 2.0, 10)
    V[10:20, 1] = np.linspace(-1.0, -1.5, 10)
    U = np.array([[0.5, -2.0]])
    n = 100_000
    items = AOBPR(rank_scale=0.01).sample(empty_user(n_items), np.zeros(n, int), seed=6,
                                          model=Factors(U, V))
    from0 = int(np.sum(items < 10))
    from1 = int(np.sum((items >= 10) & (items < 20)))
    assert from0 + from1 == n
    w = np.abs(U[0]) * V.std(axis=0)
    assert stats.binomtest(from0, n, w[0] / w.sum()).pvalue > P_MIN
    # weights without the spread (|u_f| alone) do not fit the draws
    assert stats.binomtest(from0, n, 0.5 / 2.5).pvalue < 1e-12


def test_aobpr_rejects_positives_and_keeps_the_order_of_the_rest():
    n_items = 100
    V = np.linspace(1.0, -1.0, n_items)[:, None]
    owned = [0, 1, 3]
    m = sp.csr_matrix((np.ones(3), ([0] * 3, owned)), shape=(1, n_items))
    items = AOBPR(rank_scale=0.02).sample(m, np.zeros(50_000, int), seed=1,
                                          model=Factors([[1.0]], V))
    counts = np.bincount(items, minlength=n_items)
    assert counts[owned].sum() == 0
    # conditional on not being a positive, the ranks keep exp(-r / lambda)
    free = np.setdiff1d(np.arange(30), owned)
    expected = np.exp(-free / 2.0)
    assert stats.chisquare(counts[free], expected / expected.sum() *
                           counts[free].sum()).pvalue > P_MIN


def test_orderings_are_refreshed_every_items_log_items_draws(movielens):
    sampler = AOBPR()
    state = sampler.prepare(movielens, n_factors=8)
    n = movielens.n_items
    assert sampler.refresh_interval(state) == int(n * math.log(n))
    assert AOBPR(refresh_every=0.5).refresh_interval(state) == int(0.5 * n * math.log(n))


def test_refresh_rebuilds_orderings_and_spreads_from_the_item_factors(movielens):
    from recsample.samplers.base import positives_of, run_refresh
    rng = np.random.default_rng(0)
    U = rng.normal(size=(movielens.n_users, 3)).astype(np.float32)
    V = rng.normal(size=(movielens.n_items, 3)).astype(np.float32)
    state = AOBPR().prepare(movielens, n_factors=3)
    run_refresh(state, positives_of(movielens.matrix), U, V, 0, 0, False)
    for f in range(3):
        # a permutation of the items, largest value first (ties in any order)
        np.testing.assert_array_equal(np.sort(state.order[f]), np.arange(movielens.n_items))
        assert (np.diff(V[state.order[f], f]) <= 0).all()
    np.testing.assert_allclose(state.spread[:3], V.std(axis=0), rtol=1e-6)
    assert state.spread[3] == 0   # the spare row for a bias column V does not have


def test_training_refreshes_the_orderings(movielens):
    # prepare leaves the spreads at 0; only the trainer's refresh fills them
    model = rs.BPR(factors=4, epochs=1, sampler=AOBPR(), seed=0, n_threads=1)
    model.fit(movielens, progress=False)
    assert (model.sampler_state_.spread > 0).all()   # 4 factors + the bias column


@pytest.mark.parametrize("kwargs, message", [
    (dict(rank_scale=0.0), "rank_scale"), (dict(rank_scale=float("nan")), "rank_scale"),
    (dict(refresh_every=-1.0), "refresh_every"),
])
def test_bad_aobpr_parameters_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AOBPR(**kwargs).sample(empty_user(5), [0], seed=0, model=Factors([[1.0]], np.ones((5, 1))))


def test_radix_order_is_a_stable_sort_of_the_keys():
    """Ascending keys, ties in index order, for keys whose digits repeat, that
    share their top bits (a skipped pass) or that span all 32 bits."""
    from recsample.samplers.aobpr import _radix_order
    rng = np.random.default_rng(2)
    cases = [rng.integers(0, 50, 3000), rng.integers(0, 2**32, 5000),
             (7 << 22) + rng.integers(0, 2**11, 4000), np.full(100, 2**32 - 1), np.arange(1)]
    for keys in cases:
        keys = keys.astype(np.uint32)
        out = np.empty(keys.shape[0], dtype=np.int32)
        _radix_order(keys.copy(), out)
        np.testing.assert_array_equal(out, np.argsort(keys, kind="stable"))
