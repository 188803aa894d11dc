"""``average_decay``: the model is an exponential moving average of its
factors over the epochs; training itself is unchanged."""
import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs

D = 0.7
EPOCHS = 5


@pytest.fixture(scope="module")
def split():
    data = rs.datasets.synthetic(120, 200, 3000, seed=3)
    return rs.split.random_holdout(data, test_fraction=0.2, seed=0)


def _scored_rows(model, F):
    """``F`` as the model scores it, computed here: unit rows under cosine."""
    F = F.astype(np.float64)
    if model.similarity == "cosine":
        k = model.factors
        F[:, :k] /= np.linalg.norm(F[:, :k], axis=1, keepdims=True)
    return F


def _epochs_factors(model, train):
    """Fit ``model``; per epoch, (user, item) factors as a callback sees them."""
    seen = []

    def record(epoch, m, r, elapsed):
        seen.append((m._user_factors.copy(), m._item_factors.copy()))

    model.fit(train, callbacks=[record], progress=False)
    return seen


@pytest.mark.parametrize("cls", [rs.BPR, rs.Softmax])
def test_the_model_is_the_moving_average_of_its_epochs_factors(cls, split):
    train, _ = split
    params = dict(factors=8, epochs=EPOCHS, n_threads=1, seed=2)
    own = [tuple(_scored_rows(cls(**params), F) for F in pair)
           for pair in _epochs_factors(cls(**params), train)]
    averaged = cls(**params, average_decay=D)
    seen = _epochs_factors(averaged, train)
    AU, AV = own[0]
    for epoch in range(EPOCHS):
        if epoch:
            AU = D * AU + (1 - D) * own[epoch][0]
            AV = D * AV + (1 - D) * own[epoch][1]
        # what callbacks see after each epoch, and the fitted model at the end
        np.testing.assert_allclose(seen[epoch][0], AU, atol=2e-6)
        np.testing.assert_allclose(seen[epoch][1], AV, atol=2e-6)
    np.testing.assert_allclose(averaged._user_factors, AU, atol=2e-6)
    np.testing.assert_allclose(averaged._item_factors, AV, atol=2e-6)
    # the average is not the last epoch's factors
    assert np.abs(AV - own[-1][1]).max() > 1e-3


def test_validation_scores_the_average_and_keeps_its_best_epoch(split):
    train, valid = split
    model = rs.Softmax(factors=8, epochs=6, n_threads=1, average_decay=0.5,
                       valid_metric="ndcg@10")
    seen = []
    model.fit(train, valid=valid, progress=False,
              callbacks=[lambda e, m, r, t: seen.append(m._item_factors.copy())])
    scores = [h["ndcg@10"] for h in model.history_]
    assert model.best_epoch_ == int(np.argmax(scores))
    np.testing.assert_array_equal(model._item_factors, seen[model.best_epoch_])
    s = rs.evaluate(model, valid, train=train, k=(10,), metrics=("ndcg",)).summary()
    assert s["mean"].iloc[0] == pytest.approx(model.best_score_, abs=1e-9)


def test_an_interrupted_fit_keeps_the_average_of_its_finished_epochs(split):
    train, _ = split
    params = dict(factors=8, epochs=EPOCHS, n_threads=1, average_decay=D)
    seen = _epochs_factors(rs.BPR(**params), train)

    def stop(epoch, m, r, elapsed):
        if epoch == 2:
            raise KeyboardInterrupt

    model = rs.BPR(**params)
    with pytest.raises(KeyboardInterrupt):
        model.fit(train, callbacks=[stop], progress=False)
    np.testing.assert_array_equal(model._user_factors, seen[2][0])
    np.testing.assert_array_equal(model._item_factors, seen[2][1])
    # and they are what a fit of those three epochs ends with
    three = rs.BPR(**dict(params, epochs=3)).fit(train, progress=False)
    np.testing.assert_array_equal(model._user_factors, three._user_factors)
    np.testing.assert_array_equal(model._item_factors, three._item_factors)


def test_save_load_and_fold_in_use_the_average(split, tmp_path):
    train, _ = split
    # dot similarity: the saved rows are the model's own (a cosine model
    # saves them normalised, from which fold_in starts elsewhere)
    model = rs.BPR(factors=8, epochs=3, n_threads=1, average_decay=D).fit(
        train, progress=False)
    loaded = rs.load_model(model.save(tmp_path / "m.npz"))
    assert loaded.average_decay == D
    np.testing.assert_array_equal(loaded.item_factors, model.item_factors)
    rows = train.matrix[:4]
    np.testing.assert_allclose(loaded.fold_in(rows, seed=1), model.fold_in(rows, seed=1),
                               atol=1e-6)


@pytest.mark.parametrize("value", [0, 0.0, 1, 1.0, 1.5, -0.2, float("nan"), "0.9", True])
def test_bad_average_decay_is_refused_naming_it(value):
    data = sp.csr_matrix(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="average_decay"):
        rs.BPR(epochs=1, average_decay=value).fit(data, progress=False)
