"""Group losses (sampled softmax, CCL): exact gradients through dot and cosine
scores, the logQ correction, parameters, and learning real data."""
import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit

import recsample as rs
from recsample._optim import make_optim
from recsample._rng import stream
from recsample.losses import CCLLoss, Hyper, PairGroupLoss, SoftmaxLoss
from recsample.losses.base import new_scratch, train_unit
from recsample.models import _train
from recsample.samplers import DNS, Popularity, Uniform
from recsample.samplers.base import BPO_LOSS, BPR_LOSS, group_users, positives_of


def _softmax_objective(x_pos, x_neg, lq, t):
    """-log(e^{x_p/t} / (e^{x_p/t} + sum_n e^{x_n/t - lq_n})) summed over positives."""
    neg = x_neg / t - lq
    return sum(np.logaddexp(xp / t, np.logaddexp.reduce(neg)) - xp / t for xp in x_pos)


def _bilateral_objective(x_pos, x_neg, lq, t, r):
    """Bilateral softmax, per positive: -x_p/t + r log sum_n e^{x_n/t - lq_n}."""
    lse = np.logaddexp.reduce(np.asarray(x_neg) / t - lq)
    return sum(r * lse - xp / t for xp in x_pos)


def _pairwise_objective(x_pos, x_neg, lq, t, s, sigma):
    """Pairwise form, per positive: log(1 + sum_n e^{sigma((x_n - x_p)/s) s/t - lq_n})."""
    total = 0.0
    for xp in x_pos:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = sigma((np.asarray(x_neg) - xp) / s) * (s / t) - lq
        total += np.logaddexp(0.0, np.logaddexp.reduce(a[np.isfinite(a)]))
    return total


def _top_k_objective(x_pos, x_neg, lq, x0_pos, beta, t_w, per_positive):
    """Top-K weighted form: sum_p w_p L_p, L_p the form's loss of positive p and
    w_p = sigmoid((x0_p - beta)/t_w) held at the step's scores x0."""
    return sum(per_positive([xp], x_neg, lq) / (1.0 + np.exp(-(x0 - beta) / t_w))
               for xp, x0 in zip(x_pos, x0_pos))


def _log_or_minus_inf(y):
    return np.where(y > 0, np.log(np.maximum(y, 1e-300)), -np.inf)


SIGMAS = {"tanh": lambda d: _log_or_minus_inf(1 + np.tanh(d)),
          "relu": lambda d: _log_or_minus_inf(1 + d),
          "atan": lambda d: _log_or_minus_inf(1 + np.arctan(d))}


def _ccl_objective(x_pos, x_neg, margin, w):
    n = len(x_neg)
    return sum(max(0.0, 1 - xp) + w / n * np.maximum(0.0, x_neg - margin).sum() for xp in x_pos)


def _pair_objective(code, x_pos, x_neg):
    total = 0.0
    for xp in x_pos:
        for xn in x_neg:
            if code == BPR_LOSS:
                total += np.logaddexp(0.0, -(xp - xn))
            else:
                total += np.logaddexp(0.0, -xp) + np.logaddexp(0.0, xn)
    return total


def _scores(U, V, u, items, cosine, bias=False):
    """Dot products, or cosines; with ``bias`` the last column of V is an item
    bias added to the cosine (and U's last column the constant 1)."""
    if bias and cosine:
        Uk, Vk = U[:, :-1], V[:, :-1]
        return (Vk[items] @ Uk[u]) / (np.linalg.norm(Uk[u]) * np.linalg.norm(Vk[items], axis=1)) \
            + V[items, -1]
    x = V[items] @ U[u]
    if cosine:
        x = x / (np.linalg.norm(U[u]) * np.linalg.norm(V[items], axis=1))
    return x


CASES = {
    "softmax": (SoftmaxLoss(1 / 0.5, False),
                lambda xp, xn, lq: _softmax_objective(xp, xn, 0 * lq, 0.5)),
    "softmax-logq": (SoftmaxLoss(1 / 0.5, True),
                     lambda xp, xn, lq: _softmax_objective(xp, xn, lq, 0.5)),
    "softmax-bilateral": (SoftmaxLoss(1 / 0.5, True, 1.3),
                          lambda xp, xn, lq: _bilateral_objective(xp, xn, lq, 0.5, 1.3)),
    # s / t = 1.4 (a real power), 4 and 1 (integer powers, by multiplication)
    **{f"softmax-{name}-{t}-{sc}": (SoftmaxLoss(1 / t, True, 0.0, code, sc),
                                    lambda xp, xn, lq, sig=SIGMAS[name], t=t, sc=sc:
                                    _pairwise_objective(xp, xn, lq, t, sc, sig))
       for name, code in (("tanh", 1), ("relu", 2), ("atan", 3))
       for t, sc in ((0.5, 0.7), (0.25, 1.0), (0.5, 0.5))},
    # the top-K weighted form, user 1's threshold 0.2, t_w 0.5, the weights held
    # at the step's scores x0 (the objective takes them as a fourth argument)
    "softmax-top-k": (SoftmaxLoss(1 / 0.5, True, 0.0, 0, 2.0, 1 / 0.5, np.array([9.0, 0.2])),
                      lambda xp, xn, lq, x0: _top_k_objective(
                          xp, xn, lq, x0, 0.2, 0.5,
                          lambda a, b, c: _softmax_objective(a, b, c, 0.5))),
    "softmax-relu-top-k": (SoftmaxLoss(1 / 0.5, True, 0.0, 2, 0.7, 1 / 0.5, np.array([9.0, 0.2])),
                           lambda xp, xn, lq, x0: _top_k_objective(
                               xp, xn, lq, x0, 0.2, 0.5,
                               lambda a, b, c: _pairwise_objective(a, b, c, 0.5, 0.7,
                                                                   SIGMAS["relu"]))),
    "ccl": (CCLLoss(0.1, 3.0), lambda xp, xn, lq: _ccl_objective(xp, xn, 0.1, 3.0)),
    "bpr-group": (PairGroupLoss(np.int64(BPR_LOSS)),
                  lambda xp, xn, lq: _pair_objective(BPR_LOSS, xp, xn)),
    "bpo-group": (PairGroupLoss(np.int64(BPO_LOSS)),
                  lambda xp, xn, lq: _pair_objective(BPO_LOSS, xp, xn)),
}


SCORES = {"dot": (False, False), "cosine": (True, False), "dot+bias": (False, True),
          "cosine+bias": (True, True)}


@pytest.mark.parametrize("scoring", list(SCORES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_one_sgd_step_follows_the_finite_difference_gradient(case, scoring):
    """With SGD, lr = 1 and no decay, a unit's step moves each row by minus the
    derivative of the stated objective; checked against central differences
    in float64 for the user's row and every item row of the unit (the item
    bias column too; the user's constant column must not move)."""
    cosine, bias = SCORES[scoring]
    loss, objective = CASES[case]
    rng = np.random.default_rng(7)
    k, n_items = 5, 12
    width = k + bias
    U = rng.normal(0, 0.6, (2, width)).astype(np.float32)
    V = rng.normal(0, 0.6, (n_items, width)).astype(np.float32)
    if bias:
        U[:, k] = 1.0
    u = 1
    positives = np.array([0, 3], dtype=np.int64)
    negatives = np.array([5, 7, 11, 2, 9], dtype=np.int64)
    train = sp.csr_matrix((np.ones(2, np.float32), ([1, 1], positives)), shape=(2, n_items))
    pos = positives_of(train)
    lq = np.log(len(negatives) / (n_items - 2)) * np.ones(len(negatives))  # uniform: ln(N q)
    items = np.concatenate([positives, negatives])

    U64, V64 = U.astype(np.float64), V.astype(np.float64)
    x0 = _scores(U64, V64, u, items, cosine, bias)
    held = (x0[:2],) if "top-k" in case else ()

    def f(U64, V64):
        x = _scores(U64, V64, u, items, cosine, bias)
        return objective(x[:2], x[2:], lq, *held)

    h = 1e-6
    grad_U = np.zeros_like(U64)
    grad_V = np.zeros_like(V64)
    for M, G, rows, cols in ((U64, grad_U, [u], k), (V64, grad_V, np.unique(items), width)):
        for r in rows:
            for c in range(cols):
                M[r, c] += h
                up = f(U64, V64)
                M[r, c] -= 2 * h
                down = f(U64, V64)
                M[r, c] += h
                G[r, c] = (up - down) / (2 * h)
    U1, V1 = U.copy(), V.copy()
    hp = Hyper(1.0, 0.0, 0.0, 0.0, 0.0, np.int64(k), bias, np.int64(len(negatives)), cosine)
    value = _train.unit_step(Uniform().prepare(train), loss, pos, U1, V1,
                             make_optim("sgd", U1, V1), hp, u, positives, negatives)
    assert value == pytest.approx(f(U64, V64), rel=1e-4)
    np.testing.assert_allclose(U - U1, grad_U, rtol=2e-3, atol=2e-5)
    np.testing.assert_allclose(V - V1, grad_V, rtol=2e-3, atol=2e-5)


def _bias_unit(seed, k, n_items):
    """One group unit of user 1 (positives 0 and 3, negatives 5, 7, 9) over
    random rows with a bias column (the user's holding 1)."""
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.6, (2, k + 1)).astype(np.float32)
    V = rng.normal(0, 0.6, (n_items, k + 1)).astype(np.float32)
    U[:, k] = 1.0
    positives = np.array([0, 3], dtype=np.int64)
    negatives = np.array([5, 7, 9], dtype=np.int64)
    train = sp.csr_matrix((np.ones(2, np.float32), ([1, 1], positives)), shape=(2, n_items))
    return (U, V, 1, positives, negatives, np.concatenate([positives, negatives]),
            positives_of(train), Uniform().prepare(train))


@pytest.mark.parametrize("scoring", ["dot+bias", "cosine+bias"])
def test_adagrad_gives_the_item_bias_an_accumulator_of_its_own(scoring):
    """Row-wise Adagrad on a group unit, two steps: each item row's factors
    move by lr g / sqrt(a) with a the running sum of the row's mean squared
    factor derivative, and its bias by lr g_b / sqrt(b) with b the running
    sum of g_b^2 alone, not mixed into the factors' mean. The derivatives g
    are what one SGD step with lr 1 moves the rows by."""
    cosine, bias = SCORES[scoring]
    k, n_items, lr = 4, 10, 0.1
    U, V, u, positives, negatives, items, pos, state = _bias_unit(11, k, n_items)
    loss = SoftmaxLoss(1 / 0.5, False)

    def derivatives(U0, V0):
        U1, V1 = U0.copy(), V0.copy()
        hp1 = Hyper(1.0, 0.0, 0.0, 0.0, 0.0, np.int64(k), bias, np.int64(3), cosine)
        _train.unit_step(state, loss, pos, U1, V1, make_optim("sgd", U1, V1), hp1, u,
                         positives, negatives)
        return (V0 - V1).astype(np.float64)

    hp = Hyper(lr, 0.0, 0.0, 0.0, 0.0, np.int64(k), bias, np.int64(3), cosine)
    opt = make_optim("adagrad", U, V)
    expected = V.astype(np.float64)
    a = np.zeros(n_items)
    b = np.zeros(n_items)
    for _ in range(2):
        g = derivatives(U, V)
        _train.unit_step(state, loss, pos, U, V, opt, hp, u, positives, negatives)
        a[items] += (g[items, :k] ** 2).mean(axis=1)
        b[items] += g[items, k] ** 2
        expected[items, :k] -= lr * g[items, :k] / np.sqrt(a[items])[:, None]
        expected[items, k] -= lr * g[items, k] / np.sqrt(b[items])
        np.testing.assert_allclose(V, expected, rtol=1e-4, atol=1e-6)
        expected = V.astype(np.float64)
    np.testing.assert_allclose(opt.mV[items, 0], a[items], rtol=1e-4)
    np.testing.assert_allclose(opt.mV[items, 1], b[items], rtol=1e-4)


@pytest.mark.parametrize("scoring", ["dot+bias", "cosine+bias"])
def test_adagrad_decays_the_item_bias_by_its_own_regularization(scoring):
    """``bias_regularization`` (the softmax's default 2.0) enters the bias's
    derivative alone: after one row-wise Adagrad step the bias's accumulator
    holds (g_b + reg_b b)^2 for each touched item, and the factors move as
    they do without it."""
    cosine, bias = SCORES[scoring]
    k, n_items, lr, reg_b = 4, 10, 0.1, 2.0
    U, V, u, positives, negatives, items, pos, state = _bias_unit(5, k, n_items)
    loss = SoftmaxLoss(1 / 0.5, False)
    U1, V1 = U.copy(), V.copy()
    sgd = Hyper(1.0, 0.0, 0.0, 0.0, 0.0, np.int64(k), bias, np.int64(3), cosine)
    _train.unit_step(state, loss, pos, U1, V1, make_optim("sgd", U1, V1), sgd, u,
                     positives, negatives)
    g_b = (V[:, k] - V1[:, k]).astype(np.float64)
    moved = {}
    for decay in (0.0, reg_b):
        U2, V2 = U.copy(), V.copy()
        opt = make_optim("adagrad", U2, V2)
        hp = Hyper(lr, 0.0, 0.0, decay, 0.0, np.int64(k), bias, np.int64(3), cosine)
        _train.unit_step(state, loss, pos, U2, V2, opt, hp, u, positives, negatives)
        expected = (g_b[items] + decay * V[items, k].astype(np.float64)) ** 2
        np.testing.assert_allclose(opt.mV[items, 1], expected, rtol=1e-4)
        moved[decay] = V2
    np.testing.assert_array_equal(moved[0.0][:, :k], moved[reg_b][:, :k])


def test_adagrad_pair_step_gives_the_item_bias_an_accumulator_of_its_own():
    """The pair losses' row-wise step (BPR, BPO with optimizer="adagrad" and
    an item bias): rows i and j move their factors with the row's
    accumulator and their biases with their own."""
    from recsample._optim import ADAGRAD
    from recsample.losses.pair import _optim_pair
    rng = np.random.default_rng(5)
    k, lr = 4, 0.1
    U = rng.normal(0, 0.6, (1, k + 1)).astype(np.float32)
    V = rng.normal(0, 0.6, (3, k + 1)).astype(np.float32)
    U[:, k] = 1.0
    opt = make_optim("adagrad", U, V)
    vec = np.zeros((3, k + 1), dtype=np.float32)
    g_i, g_j = -0.3, 0.7  # score derivatives' descent signs as pair_step returns them
    U0, V0 = U.astype(np.float64), V.astype(np.float64)  # the step moves U too
    _optim_pair(ADAGRAD, U, V, opt.mU, opt.vU, opt.mV, opt.vV, opt.tU, opt.tV, opt.dU, opt.dV,
                opt.correction, opt.beta1, opt.beta2, opt.eps, 0, 1, 2, g_i, g_j, lr, 0.0, 0.0,
                0.0, k, True, vec)
    for r, g in ((1, g_i), (2, g_j)):
        d = -g * U0[0, :k]  # the factors' derivative; the bias's is -g
        np.testing.assert_allclose(V[r, :k], V0[r, :k] - lr * d / np.sqrt((d ** 2).mean()),
                                   rtol=1e-5)
        assert V[r, k] == pytest.approx(V0[r, k] - lr * np.sign(-g), rel=1e-5)
        assert opt.mV[r, 1] == pytest.approx(g * g, rel=1e-5)


def _expected_negative_gradient(logq, draws=400, negatives=1000, seed=3):
    """Mean over repeated units of d loss / d x_j per catalogue item, for one
    positive and a popularity sampler (alpha = 1) on a 10-item catalogue."""
    n_items = 10
    counts = np.array([60, 30, 15, 8, 4, 2, 1, 1, 1, 1])  # item popularity
    users = np.repeat(np.arange(60), 1)
    rows, cols = [], []
    for j, c in enumerate(counts):  # users 1.. hold the popular items; user 0 only item 9
        for r in range(c):
            if r + 1 < 60 and j != 9:
                rows.append(r + 1)
                cols.append(j)
    rows.append(0)
    cols.append(9)
    train = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                          shape=(len(users), n_items))
    sampler = Popularity(alpha=1.0)
    state = sampler.prepare(train)
    pos = positives_of(train)
    k = 3
    rng = np.random.default_rng(seed)
    # scores spread over about [-1, 1]: every item has a visible share
    U = rng.normal(0, 0.6, (len(users), k)).astype(np.float32)
    V = rng.normal(0, 0.6, (n_items, k)).astype(np.float32)
    t = 1.0
    u, i = 0, 9
    x = (V @ U[u]).astype(np.float64)
    full = np.exp((x - x.max()) / t)
    full /= full.sum()  # softmax over the positive and all 9 non-positives
    expected = full / t
    expected[i] = 0.0  # negatives only
    hp = Hyper(1.0, 0.0, 0.0, 0.0, 0.0, np.int64(k), False, np.int64(negatives), False)
    loss = SoftmaxLoss(1 / t, logq)
    total = np.zeros(n_items)
    for d in range(draws):
        neg = sampler.sample(train, np.zeros(negatives, dtype=np.int64), seed=d)
        U1, V1 = U.copy(), V.copy()
        _train.unit_step(state, loss, pos, U1, V1, make_optim("sgd", U1, V1), hp, u,
                         np.array([i]), neg)
        # V_j moved by -(sum of its draws' derivatives) * U_u
        total += (V - V1) @ U[u] / (U[u] @ U[u])
    return total / draws, expected


def test_logq_corrected_softmax_matches_the_full_softmax_gradient_in_expectation():
    got, expected = _expected_negative_gradient(logq=True)
    np.testing.assert_allclose(got[:9], expected[:9], rtol=0.05, atol=2e-3)


def test_without_the_logq_correction_popular_items_weigh_too_much():
    got, expected = _expected_negative_gradient(logq=False)
    # the most popular item is drawn most often, so it gets more than its share
    assert got[0] / got[:9].sum() > 1.5 * expected[0] / expected[:9].sum()
    assert not np.allclose(got[:9], expected[:9], rtol=0.05, atol=2e-3)


@pytest.mark.parametrize("cls, params, message", [
    (rs.Softmax, dict(temperature=0.0), "temperature"),
    (rs.Softmax, dict(temperature=-1.0), "temperature"),
    (rs.Softmax, dict(negatives=0), "negatives"),
    (rs.Softmax, dict(logq="yes"), "logq"),
    (rs.Softmax, dict(bilateral=0.0), "bilateral"),
    (rs.Softmax, dict(bilateral="1"), "bilateral"),
    (rs.Softmax, dict(activation="softplus"), "activation"),
    (rs.Softmax, dict(activation=None), "activation"),
    (rs.Softmax, dict(pair_scale=0.0), "pair_scale"),
    (rs.Softmax, dict(activation="tanh", bilateral=1.2), "bilateral"),
    (rs.Softmax, dict(top_k=0), "top_k"),
    (rs.Softmax, dict(top_k=2.5), "top_k"),
    (rs.Softmax, dict(top_k="20"), "top_k"),
    (rs.Softmax, dict(top_k=20, bilateral=1.2), "bilateral"),
    (rs.Softmax, dict(top_k_temperature=0.0), "top_k_temperature"),
    (rs.Softmax, dict(top_k_every=0), "top_k_every"),
    (rs.Softmax, dict(group_size=0), "group_size"),
    (rs.CCL, dict(margin=1.5), "margin"),
    (rs.CCL, dict(margin=-1.01), "margin"),
    (rs.CCL, dict(negative_weight=-1.0), "negative_weight"),
    (rs.CCL, dict(negatives=0), "negatives"),
    (rs.BPR, dict(similarity="euclid"), "similarity"),
    (rs.CCL, dict(use_bias=True), "use_bias"),
    (rs.BPR, dict(optimizer="rmsprop"), "optimizer"),
])
def test_bad_loss_parameters_name_the_argument(movielens_split, cls, params, message):
    train, _ = movielens_split
    with pytest.raises(ValueError, match=message):
        cls(epochs=1, **params).fit(train, progress=False)


def test_a_learning_sampler_cannot_use_the_cosine_pair_form(movielens_split):
    train, _ = movielens_split
    with pytest.raises(ValueError, match="similarity='dot'"):
        rs.BPR(sampler="nbpo", similarity="cosine", use_bias=False, epochs=1).fit(
            train, progress=False)


def _ndcg10(model, train, test):
    s = rs.evaluate(model, test, train=train, k=(10,), metrics=("ndcg",)).summary()
    return float(s["mean"].iloc[0])


class _Popularity:
    def __init__(self, train):
        counts = np.bincount(train.matrix.indices, minlength=train.n_items)
        self.user_factors = np.ones((train.n_users, 1), dtype=np.float32)
        self.item_factors = counts.astype(np.float32)[:, None]


@pytest.mark.parametrize("model", [
    rs.Softmax(epochs=8, negatives=64, group_size=1, seed=0),
    rs.Softmax(epochs=8, negatives=64, seed=0),
    rs.CCL(epochs=8, negatives=64, seed=0),
    rs.BPR(epochs=10, optimizer="adagrad", learning_rate=0.05, seed=0),
    rs.BPR(epochs=10, optimizer="adam", learning_rate=0.005, seed=0),
], ids=["softmax-own-negatives", "softmax-shared", "ccl", "bpr-adagrad", "bpr-adam"])
def test_losses_and_optimizers_learn_movielens_better_than_popularity(movielens_split, model):
    train, test = movielens_split
    model.fit(train, progress=False)
    assert _ndcg10(model, train, test) > 1.1 * _ndcg10(_Popularity(train), train, test)


def test_cosine_factors_are_unit_rows_whose_product_is_the_ranking_score(movielens_split,
                                                                          tmp_path):
    train, test = movielens_split
    model = rs.CCL(epochs=2, negatives=16, seed=0, n_threads=1).fit(train, progress=False)
    U, V = model.user_factors, model.item_factors
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0, rtol=1e-5)
    items, scores = model.recommend([0, 5], k=10, exclude=train)
    np.testing.assert_allclose(scores, np.take_along_axis(U[[0, 5]] @ V.T, items, 1), rtol=1e-6)
    loaded = rs.load_model(model.save(tmp_path / "ccl"))
    assert type(loaded) is rs.CCL
    assert (loaded.recommend([0, 5], k=10, exclude=train)[0] == items).all()


def test_cosine_with_item_bias_exports_unit_rows_a_bias_column_and_the_ranking_score(
        movielens_split):
    train, test = movielens_split
    model = rs.Softmax(epochs=2, negatives=16, use_bias=True, seed=0, n_threads=1).fit(
        train, progress=False)
    U, V = model.user_factors, model.item_factors
    k = model.factors
    assert U.shape[1] == V.shape[1] == k + 1
    np.testing.assert_allclose(np.linalg.norm(U[:, :k], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(V[:, :k], axis=1), 1.0, rtol=1e-5)
    assert (U[:, k] == 1.0).all()
    np.testing.assert_array_equal(V[:, k], model.item_bias)
    assert np.abs(model.item_bias).max() > 0  # the bias did learn
    items, scores = model.recommend([0, 5], k=10, exclude=train)
    np.testing.assert_allclose(scores, np.take_along_axis(U[[0, 5]] @ V.T, items, 1), rtol=1e-6)


@pytest.mark.parametrize("model_cls, params", [
    (rs.Softmax, dict(negatives=16, group_size=4)),
    (rs.CCL, dict(negatives=16)),
    (rs.BPR, dict(optimizer="adam", learning_rate=0.01)),
])
def test_one_thread_is_bit_reproducible(movielens_split, model_cls, params):
    train, _ = movielens_split
    a = model_cls(epochs=2, seed=3, n_threads=1, **params).fit(train, progress=False)
    b = model_cls(epochs=2, seed=3, n_threads=1, **params).fit(train, progress=False)
    assert np.array_equal(a.user_factors, b.user_factors)
    assert np.array_equal(a.item_factors, b.item_factors)


def test_shared_negatives_group_positives_of_one_user(movielens_split):
    """With group_size G a unit holds up to G positives of one user: the
    pairs trained are positives x N, whatever the grouping."""
    train, _ = movielens_split
    model = rs.Softmax(epochs=1, negatives=8, group_size=16, seed=0).fit(train, progress=False)
    assert model.history_[0]["pairs"] == train.nnz * 8


@pytest.mark.parametrize("logq", [True, False])
def test_ccl_weighs_each_negative_by_its_inverse_draw_probability(logq):
    """With logq, CCL's negatives drawn by a popularity sampler are weighted
    by (1/q_j) / mean(1/q) over the unit; without it, equally. One SGD step,
    lr 1, dot scores, margin -1 (every negative active): item row j moves by
    its derivative times the user's row."""
    from recsample.samplers.base import log_q_users
    n_items, u = 8, 0
    rows = [0, 1, 1, 1, 2, 2, 3]
    cols = [7, 0, 1, 2, 0, 1, 0]
    train = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(4, n_items))
    state = Popularity(alpha=1.0).prepare(train)
    pos = positives_of(train)
    rng = np.random.default_rng(2)
    U = rng.normal(0, 0.3, (4, 3)).astype(np.float32)
    V = rng.normal(0, 0.3, (n_items, 3)).astype(np.float32)
    # distinct, so no row moves twice; items the sampler can draw (count > 0)
    negatives = np.array([0, 1, 2], dtype=np.int64)
    lq = log_q_users(state, pos, np.full(3, u, dtype=np.int64), negatives)
    assert np.ptp(lq) > 0.5  # the sampler's probabilities really differ
    weights = np.exp(-lq) / np.exp(-lq).mean() if logq else np.ones(3)
    w = 3.0
    expected = w * weights / len(negatives)  # one positive
    hp = Hyper(1.0, 0.0, 0.0, 0.0, 0.0, np.int64(3), False, np.int64(3), False)
    V1 = V.copy()
    U1 = U.copy()
    _train.unit_step(state, CCLLoss(-1.0, w, logq), pos, U1, V1, make_optim("sgd", U1, V1),
                     hp, u, np.array([7]), negatives)
    got = (V[negatives] - V1[negatives]) @ U[u] / (U[u] @ U[u])
    np.testing.assert_allclose(got, expected, rtol=1e-4)


@pytest.mark.parametrize("sampler, weighs", [
    ("uniform", False), ("dns", False), ("nbpo", False), ("popularity", True),
    ("importance", True)])
def test_ccl_reads_ln_q_only_from_samplers_that_have_their_own(sampler, weighs):
    """Uniform-proposal samplers give every negative of a user the same ln q,
    so the weights would be exactly 1: the loop is told not to compute them."""
    from recsample.samplers import get_sampler
    model = rs.CCL(sampler=sampler)
    assert model._loss_state(model._validated(), get_sampler(sampler)).logq is weighs
    assert rs.CCL(sampler=sampler, logq=False)._loss_state(
        model._validated(), get_sampler(sampler)).logq is False


@pytest.mark.parametrize("model", [
    rs.Softmax(epochs=3, negatives=32, sampler="popularity", seed=0, n_threads=1),
    rs.BPR(epochs=3, sampler="popularity", use_bias=True, seed=0, n_threads=1),
], ids=["softmax", "bpr"])
def test_an_item_without_training_positives_gets_no_bias_above_the_lowest_held(
        movielens_split, model):
    """Popularity-drawn negatives never draw an item no training user holds,
    so no step moves its bias: left at 0 it outranked the items whose biases
    training pushed down (38% of movielens-small's top-10 slots after 20
    epochs of the softmax). After each epoch it is floored at the lowest
    bias of the held items."""
    train, _ = movielens_split
    counts = np.bincount(train.matrix.indices, minlength=train.n_items)
    assert (counts == 0).sum() > 100  # the split leaves such items
    model.fit(train, progress=False)
    b = model.item_bias
    assert b[counts == 0].max() <= b[counts > 0].min()
    items, _ = model.recommend(np.arange(100), k=10, exclude=train)
    assert (counts[items] > 0).all()


@pytest.mark.parametrize("cosine, bias", [(False, False), (True, False), (True, True)])
def test_top_k_thresholds_are_the_kth_largest_score(cosine, bias):
    """Without sampled items the threshold is the K-th largest score of the
    user's positives (the smallest when there are fewer than K), the scores
    computed here with numpy; with sampled items it can only be as high or higher."""
    from recsample.losses.softmax import top_k_thresholds
    rng = np.random.default_rng(3)
    k, n_users, n_items, top_k = 6, 40, 30, 3
    U = rng.normal(0, 0.5, (n_users, k + 1)).astype(np.float32)
    V = rng.normal(0, 0.5, (n_items, k + 1)).astype(np.float32)
    U[:, k] = 1.0
    train = sp.random(n_users, n_items, density=0.2, random_state=4, format="csr")
    S = U[:, :k].astype(np.float64) @ V[:, :k].T.astype(np.float64)
    if cosine:
        S /= np.linalg.norm(U[:, :k], axis=1)[:, None] * np.linalg.norm(V[:, :k], axis=1)[None]
    if bias:
        S += V[:, k]
    norms = np.linalg.norm(V[:, :k].astype(np.float64), axis=1)
    out = np.full(n_users, np.nan)
    top_k_thresholds(U, V, norms, train.indptr, train.indices, k, bias, cosine, top_k, 0, 0, 0,
                     0, n_users, out)
    for u in range(n_users):
        scores = np.sort(S[u, train.indices[train.indptr[u]:train.indptr[u + 1]]])[::-1]
        want = scores[top_k - 1] if len(scores) >= top_k else scores.min(initial=np.inf)
        if len(scores):
            assert out[u] == pytest.approx(want, rel=1e-5, abs=1e-6), u
    sampled = np.full(n_users, np.nan)
    top_k_thresholds(U, V, norms, train.indptr, train.indices, k, bias, cosine, top_k, 50, 0,
                     0, 0, n_users, sampled)
    has = np.diff(train.indptr) >= top_k
    assert np.all(sampled[has] >= out[has] - 1e-9)
    assert np.any(sampled[has] > out[has] + 1e-6)


@njit
def _loop_unit(loss, state, pos, U, V, opt, hp, order, seed):
    """One unit of the epoch loop (``train_unit``) over all of ``order``, its
    draws on the stream (seed, 0, 0)."""
    n_pos = order.shape[0]
    scratch = new_scratch(n_pos + hp.negatives, hp.negatives, U.shape[1])
    return train_unit(loss, state, pos, U, V, opt, hp, order, 0, n_pos, 0,
                      stream(seed, 0, 0), scratch)


@pytest.mark.parametrize("loss", [SoftmaxLoss(1 / 0.2, True), CCLLoss(0.1, 3.0)],
                         ids=["softmax", "ccl"])
@pytest.mark.parametrize("scoring", list(SCORES))
def test_a_dns_unit_steps_as_when_every_item_is_scored(loss, scoring):
    """The loop takes DNS's scores of its picks (``draw_group_scored``) and
    scores only the unit's positives; the step must be the one ``unit_step``
    takes on the same draws, which scores every item of the unit: 300
    negatives of DNS(2) (three passes of the 128 its slots hold), many of
    them repeats among 57 items."""
    k, n_items, n_neg, u = 8, 60, 300, 1
    rng = np.random.default_rng(11)
    cosine, bias = SCORES[scoring]
    U = rng.normal(0, 0.6, (2, k + bias)).astype(np.float32)
    V = rng.normal(0, 0.6, (n_items, k + bias)).astype(np.float32)
    if bias:
        U[:, k] = 1.0
    positives = np.array([0, 3, 4], dtype=np.int64)
    train = sp.csr_matrix((np.ones(3, np.float32), ([u] * 3, positives)), shape=(2, n_items))
    pos = positives_of(train)
    sampler = DNS(candidates=2)
    state = sampler.scoring_state(sampler.prepare(train, n_factors=k), cosine, k)
    hp = Hyper(0.1, 0.0, 0.01, 0.02, 0.0, np.int64(k), bias, np.int64(n_neg), cosine)
    order = (np.int64(u) << 32) | positives
    for seed in range(3):
        negatives = group_users(state, pos, np.array([u]), positives[:1], n_neg, U, V,
                                np.uint64(seed))[0]
        assert len(set(negatives.tolist())) < n_neg and not np.isin(negatives, positives).any()
        U1, V1, U2, V2 = U.copy(), V.copy(), U.copy(), V.copy()
        value, n_pos, n_pairs, skipped = _loop_unit(loss, state, pos, U1, V1,
                                                    make_optim("adagrad", U1, V1), hp, order,
                                                    np.uint64(seed))
        assert (n_pos, n_pairs, skipped) == (3, 3 * n_neg, 0)
        want = _train.unit_step(state, loss, pos, U2, V2, make_optim("adagrad", U2, V2), hp, u,
                                positives, negatives)
        assert value == pytest.approx(want, rel=1e-6)
        np.testing.assert_allclose(U1, U2, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(V1, V2, rtol=1e-5, atol=1e-6)
        assert not np.array_equal(V1, V)
