"""DNS(M, N) and Softmax-v(rho, N) (Shi et al., WWW 2023) draw from the
distributions their definitions give, computed exactly on a tiny catalogue."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import recsample as rs
from recsample.samplers import DNS, SRNS, WARP, Importance
from helpers import Factors

# goodness of fit at this level fails by chance once in 10,000 runs; the seeds
# are fixed, so a failure means the distribution is wrong
P_MIN = 1e-4


def one_user(scores, positive):
    """One user who owns ``positive``; item j scores scores[j] (1-d factors)."""
    n = len(scores)
    m = rs.Interactions.from_csr(sp.csr_matrix(([1.0], ([0], [positive])), shape=(1, n)))
    return m, Factors(np.ones((1, 1)), np.asarray(scores, dtype=np.float64)[:, None])


def dns_mn_distribution(x, free, n_candidates, hardest):
    """P(j) under DNS(M, N): every ordered tuple of N uniform candidates from
    ``free`` is equally likely; the pick is uniform over the tuple's M
    highest-scored entries (an earlier entry wins a tie)."""
    p = np.zeros(len(x))
    for tup in itertools.product(free, repeat=n_candidates):
        order = sorted(range(n_candidates), key=lambda k: (-x[tup[k]], k))[:hardest]
        for k in order:
            p[tup[k]] += 1.0 / hardest
    return p / p.sum()


def softmax_v_distribution(x, free, positive, n_candidates, rho):
    """P(j) under Softmax-v(rho, N): over each ordered tuple of candidates,
    softmax(Z / tau) with Z_c = ln(1 + e^(x_c - x_i)) and
    tau = sqrt(Var(Z) / (2 rho)), Var the unbiased variance over the tuple."""
    p = np.zeros(len(x))
    for tup in itertools.product(free, repeat=n_candidates):
        z = np.log1p(np.exp(np.array([x[c] for c in tup]) - x[positive]))
        var = z.var(ddof=1)
        if var == 0:
            w = np.full(n_candidates, 1.0 / n_candidates)
        else:
            a = z / np.sqrt(var / (2 * rho))
            w = np.exp(a - a.max())
            w /= w.sum()
        for k, c in enumerate(tup):
            p[c] += w[k]
    return p / p.sum()


def _counts(items, n):
    assert items.min() >= 0
    return np.bincount(items, minlength=n)


@pytest.mark.parametrize("hardest", [2, 3])
def test_dns_mn_picks_uniformly_among_the_m_hardest_of_n_candidates(hardest):
    x = np.array([0.0, 0.4, 0.9, 1.5, 2.2, 5.0])   # item 5 is the user's positive
    data, model = one_user(x, positive=5)
    n_candidates, draws = 4, 150_000
    items = DNS(candidates=n_candidates, hardest=hardest).sample(
        data, np.zeros(draws, int), seed=4, model=model)
    counts = _counts(items, 6)
    assert counts[5] == 0
    expected = dns_mn_distribution(x, range(5), n_candidates, hardest)
    assert stats.chisquare(counts[:5], draws * expected[:5]).pvalue > P_MIN


def test_dns_mn_distribution_tells_neighbouring_m_apart():
    # the test above has the power to see a wrong M: its expected counts
    # under M - 1 and M + 1 are rejected by the draws of M = 2
    x = np.array([0.0, 0.4, 0.9, 1.5, 2.2, 5.0])
    data, model = one_user(x, positive=5)
    draws = 150_000
    counts = _counts(DNS(candidates=4, hardest=2).sample(
        data, np.zeros(draws, int), seed=4, model=model), 6)
    for wrong in (1, 3):
        expected = dns_mn_distribution(x, range(5), 4, wrong)
        assert stats.chisquare(counts[:5], draws * expected[:5]).pvalue < 1e-12


def test_dns_mn_with_m_one_is_plain_dns(movielens):
    rng = np.random.default_rng(0)
    m = movielens.matrix
    model = Factors(rng.normal(size=(m.shape[0], 8)), rng.normal(size=(m.shape[1], 8)))
    users = rng.integers(0, m.shape[0], size=20_000)
    np.testing.assert_array_equal(
        DNS(candidates=8, hardest=1).sample(movielens, users, seed=3, model=model),
        DNS(candidates=8).sample(movielens, users, seed=3, model=model))


@pytest.mark.parametrize("n_candidates", [5, 70])   # 70: three chunks of candidate slots
def test_dns_mn_pick_is_among_the_m_hardest_of_the_candidates_dns_draws(n_candidates):
    # DNS draws its candidates on the same stream, in the same way, as
    # consecutive uniform draws for the user; DNS(M, N) draws the same ones
    from recsample.samplers import Uniform
    rng = np.random.default_rng(0)
    data = rs.Interactions.from_csr(sp.csr_matrix(
        (np.ones(5), ([0] * 5, [1, 4, 9, 16, 25])), shape=(1, 30)))
    model = Factors(rng.normal(size=(1, 3)), rng.normal(size=(30, 3)))
    x = (model.user_factors @ model.item_factors.T)[0]
    for seed in range(100):
        cands = Uniform().sample(data, np.zeros(n_candidates, int), seed=seed)
        top = sorted(cands, key=lambda j: -x[j])[:3]
        got = DNS(candidates=n_candidates, hardest=3).sample(data, [0], seed=seed, model=model)[0]
        assert x[got] >= x[top[-1]]
        assert got in cands


@pytest.mark.parametrize("rho", [0.3, 2.0])
def test_softmax_v_samples_softmax_of_bpr_loss_with_adaptive_temperature(rho):
    x = np.array([-1.0, 0.0, 0.3, 1.2, 0.5])        # item 4 is the positive
    data, model = one_user(x, positive=4)
    n_candidates, draws = 3, 150_000
    items = DNS(candidates=n_candidates, rho=rho).sample(
        data, np.zeros(draws, int), seed=9, model=model, positives=np.full(draws, 4))
    counts = _counts(items, 5)
    assert counts[4] == 0
    expected = softmax_v_distribution(x, range(4), 4, n_candidates, rho)
    assert stats.chisquare(counts[:4], draws * expected[:4]).pvalue > P_MIN
    # and the draws reject the distribution of a neighbouring rho
    other = softmax_v_distribution(x, range(4), 4, n_candidates, rho * 2)
    assert stats.chisquare(counts[:4], draws * other[:4]).pvalue < 1e-6


def test_softmax_v_needs_the_positive():
    data, model = one_user([0.0, 1.0, 2.0], positive=2)
    with pytest.raises(ValueError, match="positives="):
        DNS(candidates=2, rho=1.0).sample(data, [0], seed=0, model=model)


@pytest.mark.parametrize("kwargs, message", [
    (dict(candidates=4, hardest=0), "hardest"),
    (dict(candidates=4, hardest=5), "hardest"),
    (dict(candidates=4, hardest=2.0), "hardest"),
    (dict(candidates=300, hardest=2), "candidates must be at most 256"),
    (dict(candidates=4, rho=0.0), "rho"),
    (dict(candidates=4, rho=float("inf")), "rho"),
    (dict(candidates=1, rho=1.0), "candidates >= 2"),
    (dict(candidates=4, hardest=2, rho=1.0), "at most one"),
    (dict(candidates=4, temperature=0.5, rho=1.0), "at most one"),
])
def test_bad_variant_parameters_name_the_argument(kwargs, message):
    data, model = one_user([0.0, 1.0, 2.0, 3.0], positive=3)
    with pytest.raises(ValueError, match=message):
        DNS(**kwargs).sample(data, [0], seed=0, model=model, positives=[3])


def test_softmax_v_with_more_candidates_than_the_frame_holds_draws_hard_non_positives():
    # beyond 256 candidates Softmax-v keeps them in per-thread rows of its
    # state instead of the draw's stack frame: the draws must still be
    # non-positives, repeatable for a seed, and favour the highest score
    data, model = one_user([0.0, 1.0, 2.0, 3.0, 9.0], positive=4)
    users, pos = np.zeros(3000, dtype=np.int64), np.full(3000, 4)
    a = DNS(candidates=300, rho=1.0).sample(data, users, seed=1, model=model, positives=pos)
    b = DNS(candidates=300, rho=1.0).sample(data, users, seed=1, model=model, positives=pos)
    assert np.array_equal(a, b)
    counts = np.bincount(a, minlength=5)
    assert counts[4] == 0
    assert counts.argmax() == 3 and counts[3] > counts[2] > counts[0]


@pytest.mark.parametrize("model_class, kwargs, sampler", [
    (rs.CCL, {}, DNS(candidates=8)),
    (rs.Softmax, {"use_bias": True}, DNS(candidates=8)),
    (rs.Softmax, {}, DNS(candidates=8, hardest=2)),
    (rs.CCL, {}, DNS(candidates=8, temperature=0.05)),
    (rs.Softmax, {"use_bias": True}, DNS(candidates=8, rho=1.0)),
    (rs.Softmax, {}, WARP(margin=0.1)),
    (rs.CCL, {}, WARP(margin=0.1)),
    (rs.Softmax, {}, Importance(candidates=8, temperature=0.1)),
    (rs.CCL, {}, Importance(candidates=8, proposal="popularity", temperature=0.1)),
    (rs.Softmax, {}, SRNS(memory=16, subset=4, fresh=2)),
    (rs.CCL, {}, SRNS(memory=16, subset=4, fresh=2, temperature=0.1))])
def test_scoring_samplers_rank_by_the_cosine_models_own_score_in_training(model_class, kwargs,
                                                                          sampler):
    # a cosine model's score ignores its rows' lengths; the training draws
    # (on the raw rows, state from scoring_state) must pick what the model
    # ranks high, which is what sample() picks from the exported rows, whose
    # dot product is the model's score (cosine, plus the bias)
    from recsample.core.positives import positives_of
    from recsample.samplers.base import sample_users
    train = rs.datasets.synthetic(300, 200, 6_000, seed=0, clusters=5)
    model = model_class(factors=16, epochs=3, negatives=16, n_threads=1, sampler=sampler,
                        **kwargs).fit(train, progress=False)
    matrix = train.matrix
    users = np.repeat(np.arange(300, dtype=np.int64), 20)
    positives = matrix.indices[matrix.indptr[users]].astype(np.int64)
    expected = sampler.sample(train, users, seed=5, model=model, positives=positives)
    U, V = model._user_factors, model._item_factors
    # a state of its own for each: SRNS's draws move its memory
    drawn = {cosine: sample_users(sampler.scoring_state(sampler.prepare(matrix, n_factors=16,
                                                                        seed=5), cosine, 16),
                                  positives_of(matrix), users, positives, U, V, np.uint64(5))
             for cosine in (True, False)}
    agree = {c: np.mean(d == expected) for c, d in drawn.items()}
    # float32 rounding may reorder near-ties
    assert agree[True] > 0.98
    # the scenario tells the two apart: the rows' dot products rank otherwise
    assert agree[False] < agree[True] - 0.05


def test_srns_records_the_cosine_models_own_scores_at_each_epochs_end():
    # the hardness spread of SRNS reads the scores recorded at the end of
    # each epoch: with a cosine model they must be its scores (cosine plus
    # bias, the exported rows' dot product), those of the memory items and
    # of the training positives alike
    train = rs.datasets.synthetic(200, 150, 4_000, seed=1, clusters=4)
    model = rs.Softmax(factors=8, epochs=2, negatives=16, n_threads=1,
                       sampler=SRNS(memory=8, subset=2, fresh=2)).fit(train, progress=False)
    state = model.sampler_state_
    assert state.cosine == 8 and state.epochs_done[0] == 2
    ring = (state.epochs_done[0] - 1) % state.records.shape[2]
    scores = model.user_factors @ model.item_factors.T
    items = state.items.astype(np.int64)
    held = items >= 0
    rows = np.nonzero(held)[0]
    expected = scores[rows, items[held]]
    np.testing.assert_allclose(state.records[:, :, ring][held], expected, rtol=1e-4, atol=1e-5)
    m = train.matrix
    users = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    np.testing.assert_allclose(state.pos_records[:, ring], scores[users, m.indices],
                               rtol=1e-4, atol=1e-5)
    # the rows' dot product, which the cosine ignores the lengths of, differs
    raw = model._user_factors @ model._item_factors.T
    assert not np.allclose(state.records[:, :, ring][held], raw[rows, items[held]],
                           rtol=1e-2, atol=1e-3)
