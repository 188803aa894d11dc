"""WARP returns the first margin violator among uniform draws and weights the
pair by L(floor(n_neg / draws)), with n_neg the user's non-positive items."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import recsample as rs
from recsample.samplers import WARP
from helpers import Factors

P_MIN = 1e-4   # goodness of fit fails by chance once in 10,000 runs; seeds are fixed


@pytest.fixture
def catalogue():
    """One user owning items 0-14 of 40; item 0 (the positive) scores 2.0;
    non-positives 15-19 score 1.5 (margin violators at margin 1), 20-39 score
    0.5 (violators only at a margin > 1.5)."""
    n_items = 40
    m = sp.csr_matrix((np.ones(15), ([0] * 15, range(15))), shape=(1, n_items))
    x = np.full(n_items, 0.5)
    x[0] = 2.0
    x[15:20] = 1.5
    return rs.Interactions.from_csr(m), Factors(np.ones((1, 1)), x[:, None]), x


def harmonic(r):
    return np.sum(1.0 / np.arange(1, r + 1))


def test_warp_returns_a_uniform_margin_violator(catalogue):
    data, model, x = catalogue
    n = 60_000
    items = WARP(max_draws=1000).sample(data, np.zeros(n, int), seed=1, model=model,
                                        positives=np.zeros(n, int))
    counts = np.bincount(items, minlength=40)
    assert counts[:15].sum() == 0 and counts[20:].sum() == 0
    assert stats.chisquare(counts[15:20]).pvalue > P_MIN


def test_warp_margin_decides_who_violates(catalogue):
    # margin 1.6: every non-positive violates, so the first draw is returned
    data, model, x = catalogue
    n = 60_000
    items = WARP(max_draws=1000, margin=1.6).sample(data, np.zeros(n, int), seed=1,
                                                    model=model, positives=np.zeros(n, int))
    counts = np.bincount(items, minlength=40)
    assert counts[20:].sum() > 0.7 * n
    assert stats.chisquare(counts[15:]).pvalue > P_MIN


def weight_distribution(n_neg, p, max_draws):
    """P(weight = w): the first violator comes at draw d ~ Geometric(p), weight
    L(max(1, n_neg // d)); no violator within max_draws gives 0."""
    dist = {}
    for d in range(1, max_draws + 1):
        w = round(harmonic(max(1, n_neg // d)), 9)
        dist[w] = dist.get(w, 0.0) + (1 - p) ** (d - 1) * p
    dist[0.0] = dist.get(0.0, 0.0) + (1 - p) ** max_draws
    return dist


@pytest.mark.parametrize("numerator", ["non-positives", "all items minus one"])
def test_warp_weight_is_harmonic_of_non_positives_over_draws(catalogue, numerator):
    data, model, x = catalogue
    n = 100_000
    _, w = WARP(max_draws=12).sample_weighted(data, np.zeros(n, int), np.zeros(n, int),
                                              seed=5, model=model)
    n_neg = 25 if numerator == "non-positives" else 39
    dist = weight_distribution(n_neg, 5 / 25, 12)
    values = np.array(sorted(dist))
    observed = np.array([np.sum(np.isclose(w, v)) for v in values])
    if numerator == "non-positives":
        assert observed.sum() == n               # every weight is one the definition allows
        expected = np.array([dist[v] for v in values]) * n
        assert stats.chisquare(observed, expected).pvalue > P_MIN
    else:
        # LightFM's numerator gives other weight values: the draws do not match them
        assert observed.sum() < 0.5 * n


def test_warp_needs_the_positive(catalogue):
    data, model, _ = catalogue
    with pytest.raises(ValueError, match="positives="):
        WARP().sample(data, [0], seed=0, model=model)


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_draws=0), "max_draws"), (dict(max_draws=2.5), "max_draws"),
    (dict(margin=-1.0), "margin"), (dict(margin=float("nan")), "margin"),
])
def test_bad_warp_parameters_name_the_argument(catalogue, kwargs, message):
    data, model, _ = catalogue
    with pytest.raises(ValueError, match=message):
        WARP(**kwargs).sample(data, [0], seed=0, model=model, positives=[0])
