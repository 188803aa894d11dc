"""NBPO: the compiled updates are the authors' formulas; the flip model learns."""
import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs
from recsample.models import _train
from recsample.samplers.base import BPO_LOSS, BPR_LOSS
from recsample.samplers.nbpo import NBPOState, nbpo_directions


def sig(x, clip=0.0):
    """Reference sigmoid, with the authors' clipping to 0/1 beyond |x| > clip."""
    x = np.asarray(x, dtype=np.float64)
    out = 1.0 / (1.0 + np.exp(-x))
    if clip > 0:
        out = np.where(x > clip, 1.0, np.where(x < -clip, 0.0, out))
    return out


def reference(loss, x_ui, x_uj, g_ui, g_uj, clip):
    """DESIGN.md's reference directions, written out once more."""
    d_gi = -sig(g_ui, clip) * sig(x_ui, clip)
    d_gj = sig(-g_uj, clip) * sig(x_uj, clip)
    if loss == BPO_LOSS:
        d_xi = sig(-g_ui, clip) * sig(-x_ui, clip)
        d_xj = sig(g_uj, clip) * sig(-x_uj, clip) - sig(x_uj, clip)
    else:
        # P(j is a true negative), unclipped; 1 - sigma(x) written sigma(-x)
        w = sig(-x_uj) / (sig(-x_uj) + sig(x_uj) * sig(g_uj))
        d_xi = w * sig(-(x_ui - x_uj), clip)
        d_xj = -d_xi
    return d_xi, d_xj, d_gi, d_gj


@pytest.mark.parametrize("loss", [BPO_LOSS, BPR_LOSS])
@pytest.mark.parametrize("clip", [0.0, 10.0])
def test_compiled_directions_equal_the_reference_formulas(loss, clip):
    rng = np.random.default_rng(loss * 7 + int(clip))
    # wide inputs so that a quarter of them fall in the clipped region
    values = rng.normal(0, 9, size=(2000, 4))
    for x_ui, x_uj, g_ui, g_uj in values:
        got = nbpo_directions(loss, x_ui, x_uj, g_ui, g_uj, clip)[:4]
        want = reference(loss, x_ui, x_uj, g_ui, g_uj, clip)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12)
    assert (np.abs(values) > 10).any(axis=1).mean() > 0.2


@pytest.mark.parametrize("loss", [BPO_LOSS, BPR_LOSS])
def test_one_sgd_step_moves_all_four_factorisations_as_stated(loss):
    rng = np.random.default_rng(1)
    k, k1 = 4, 3
    U = rng.normal(0, 1, (2, k)).astype(np.float32)
    V = rng.normal(0, 1, (3, k)).astype(np.float32)
    P = rng.normal(0, 1, (2, k1)).astype(np.float32)
    Q = rng.normal(0, 1, (3, k1)).astype(np.float32)
    empty = np.zeros((0, k1), np.float32)
    lr, reg, lam = 0.05, 0.1, 0.3
    state = NBPOState(P.copy(), Q.copy(), empty, empty, lam)
    U1, V1 = U.copy(), V.copy()
    u, i, j = 1, 0, 2
    _train.single_step(state, loss, U1, V1, u, i, j, lr, reg, reg, reg, 0.0, k, False)
    d_xi, d_xj, d_gi, d_gj = reference(loss, U[u] @ V[i], U[u] @ V[j], P[u] @ Q[i], P[u] @ Q[j], 0)
    np.testing.assert_allclose(U1[u], U[u] + lr * (d_xi * V[i] + d_xj * V[j] - reg * U[u]), rtol=1e-5)
    np.testing.assert_allclose(V1[i], V[i] + lr * (d_xi * U[u] - reg * V[i]), rtol=1e-5)
    np.testing.assert_allclose(V1[j], V[j] + lr * (d_xj * U[u] - reg * V[j]), rtol=1e-5)
    np.testing.assert_allclose(state.P[u], P[u] + lr * (d_gi * Q[i] + d_gj * Q[j] - lam * P[u]), rtol=1e-5)
    np.testing.assert_allclose(state.Q[i], Q[i] + lr * (d_gi * P[u] - lam * Q[i]), rtol=1e-5)
    np.testing.assert_allclose(state.Q[j], Q[j] + lr * (d_gj * P[u] - lam * Q[j]), rtol=1e-5)
    np.testing.assert_array_equal(state.P[0], P[0])  # untouched rows stay


def test_paper_mode_epoch_matches_a_numpy_reimplementation():
    # Every user owns all items but one, so each draw is known; one batch
    # holds every positive, so the summed gradient does not depend on order.
    n_users, n_items = 6, 5
    dense = np.ones((n_users, n_items), dtype=np.float32)
    free = np.arange(n_users) % n_items
    dense[np.arange(n_users), free] = 0
    data = sp.csr_matrix(dense)
    model = rs.NBPO(factors=3, epochs=1, negatives=2, batch_size=10_000, seed=4,
                    sampler=rs.samplers.NBPO(flip_factors=2, lambda_phi=0.7),
                    learning_rate=0.1, regularization=0.2).fit(data, progress=False)
    rng = np.random.default_rng(4)
    b = 1 / np.sqrt(50)  # the paper's init_scale, kept when factors change
    U = rng.uniform(0, b, (n_users, 3))
    V = rng.uniform(0, b, (n_items, 3))
    frng = np.random.default_rng([4, 0x4E42504F])
    P = 5 * frng.uniform(0, 1 / np.sqrt(2), (n_users, 2))
    Q = -5 * frng.uniform(0, 1 / np.sqrt(2), (n_items, 2))
    dU, dV, dP, dQ = (np.zeros_like(a) for a in (U, V, P, Q))
    for u in range(n_users):
        j = free[u]
        for i in np.flatnonzero(dense[u]):
            for _ in range(2):
                d_xi, d_xj, d_gi, d_gj = reference(BPO_LOSS, U[u] @ V[i], U[u] @ V[j],
                                                   P[u] @ Q[i], P[u] @ Q[j], 10.0)
                dU[u] += d_xi * V[i] + d_xj * V[j]
                dV[i] += d_xi * U[u]
                dV[j] += d_xj * U[u]
                dP[u] += d_gi * Q[i] + d_gj * Q[j]
                dQ[i] += d_gi * P[u]
                dQ[j] += d_gj * P[u]
    U += 0.1 * (dU - 0.2 * U)
    V += 0.1 * (dV - 0.2 * V)
    P += 0.1 * (dP - 0.7 * P)
    Q += 0.1 * (dQ - 0.7 * Q)
    np.testing.assert_allclose(model.user_factors, U, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.item_factors, V, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.sampler_state_.P, P, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.sampler_state_.Q, Q, rtol=1e-4, atol=1e-6)


def test_nbpo_model_defaults_are_the_papers_amazon_settings():
    p = rs.NBPO().get_params()
    assert (p["factors"], p["epochs"], p["learning_rate"], p["regularization"]) == (50, 200, 0.05, 1.0)
    assert (p["negatives"], p["optimizer"], p["batch_size"]) == (4, "batch", 5000)
    assert (p["learning_rate_decay"], p["clip_sigmoid"], p["init"]) == (0.99, 10.0, "uniform")
    assert p["init_scale"] == pytest.approx(1 / np.sqrt(50))
    assert p["sampler"] == rs.samplers.NBPO(flip_factors=50, lambda_phi=5.0)


def _hidden_positive_data(seed=0, n_users=400, n_items=300):
    """Users' true positives are the top 10% of a rank-4 preference; 30% of
    them are hidden from training (the false negatives NBPO is meant for)."""
    train, hidden, _ = rs.datasets.hidden_positives(n_users, n_items, rank=4,
                                                    positive_fraction=0.1, hide=0.3, seed=seed)
    return train, hidden


def _auc(score, label):
    from scipy.stats import mannwhitneyu
    return mannwhitneyu(score[label], score[~label]).statistic / (label.sum() * (~label).sum())


@pytest.mark.parametrize("model", [
    rs.NBPO(epochs=60, sampler=rs.samplers.NBPO(flip_factors=50, lambda_phi=0.5)),
    rs.BPR(factors=16, epochs=40, negatives=2, sampler=rs.samplers.NBPO(lambda_phi=0.01)),
], ids=["bpo-batch", "bpr-sgd"])
def test_flip_model_finds_hidden_positives_among_unvoted_items(model):
    train, hidden = _hidden_positive_data()
    model.fit(train, progress=False)
    users, items = np.nonzero(train.toarray() == 0)
    label = hidden[users, items]
    posterior = model.hidden_positive_probability(users, items)
    assert _auc(posterior, label) > 0.6
    flip = model.flip_probability(users, items)
    assert flip.min() >= 0 and flip.max() <= 1


def test_flip_probability_survives_save_and_load(tmp_path):
    train, _ = _hidden_positive_data(n_users=50, n_items=40)
    model = rs.NBPO(epochs=3).fit(train, progress=False)
    loaded = rs.load_model(model.save(tmp_path / "nbpo.npz"))
    users, items = np.array([0, 1, 2]), np.array([5, 6, 7])
    np.testing.assert_array_equal(loaded.flip_probability(users, items),
                                  model.flip_probability(users, items))


def test_flip_probability_needs_the_nbpo_sampler():
    model = rs.BPR(factors=2, epochs=1).fit(sp.csr_matrix(np.eye(3, dtype=np.float32)),
                                            progress=False)
    with pytest.raises(ValueError, match="NBPO sampler"):
        model.flip_probability([0], [1])
