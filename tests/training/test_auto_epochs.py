"""epochs="auto": the validation part carved from train, the search's
patience, the chosen count kept and trained on all of train."""
import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs
from recsample.models import _auto
pytestmark = pytest.mark.filterwarnings("ignore:epochs=.auto.. the search reached:RuntimeWarning")


@pytest.fixture
def short_search(monkeypatch):
    """A search capped at 12 epochs, validated every 2, patience 4 epochs."""
    monkeypatch.setattr(rs.BPR, "AUTO_MAX_EPOCHS", 12)
    monkeypatch.setattr(rs.BPR, "AUTO_EVAL_EVERY", 2)
    monkeypatch.setattr(rs.BPR, "AUTO_PATIENCE", 4)


def test_carve_holds_out_a_tenth_of_each_user_and_leaves_one():
    rng = np.random.default_rng(0)
    counts = np.array([1, 2, 5, 10, 31, 100])
    rows = np.repeat(np.arange(len(counts)), counts)
    cols = np.concatenate([rng.choice(200, c, replace=False) for c in counts])
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(counts), 200))
    held = _auto.carve(m, 0.1, seed=3)
    per_user = np.add.reduceat(held.astype(int), m.indptr[:-1])
    # floor(n * 0.1 + 0.5), but never a user's last positive
    np.testing.assert_array_equal(per_user, [0, 0, 1, 1, 3, 10])
    np.testing.assert_array_equal(held, _auto.carve(m, 0.1, seed=3))
    assert not np.array_equal(held, _auto.carve(m, 0.1, seed=4))
    # the very part rs.split.random_holdout holds out with the same seed
    data = rs.Interactions.from_csr(m)
    _, valid = rs.split.random_holdout(data, test_fraction=0.1, seed=3)
    assert (data.select(held).matrix != valid.matrix).nnz == 0


def test_auto_chooses_the_best_validation_epoch_and_retrains_on_all_of_train(
        movielens_split, short_search):
    train, _ = movielens_split
    model = rs.BPR(epochs="auto", n_threads=1).fit(train, progress=False)
    scored = [(h["epoch"] + 1, h["ndcg@10"]) for h in model.auto_history_ if "ndcg@10" in h]
    assert len(scored) >= 2
    best = max(scored, key=lambda e: e[1])[0]
    assert model.epochs_ == best
    # the final run is a plain fit of that many epochs on all of train
    assert len(model.history_) == best
    assert model.get_params()["epochs"] == "auto"
    same = rs.BPR(epochs=best, n_threads=1).fit(train, progress=False)
    np.testing.assert_array_equal(model.user_factors, same.user_factors)
    np.testing.assert_array_equal(model.item_factors, same.item_factors)


def test_the_search_stops_when_the_best_epoch_is_older_than_the_patience(
        movielens_split, monkeypatch):
    train, _ = movielens_split
    monkeypatch.setattr(rs.BPR, "AUTO_MAX_EPOCHS", 60)
    monkeypatch.setattr(rs.BPR, "AUTO_EVAL_EVERY", 1)
    monkeypatch.setattr(rs.BPR, "AUTO_PATIENCE", 2)
    monkeypatch.setattr(rs.BPR, "AUTO_PATIENCE_FRACTION", 0.0)
    # a step size this large peaks early on this data and then decays
    model = rs.BPR(epochs="auto", learning_rate=0.3, n_threads=1).fit(train, progress=False)
    last = model.auto_history_[-1]["epoch"] + 1
    assert last < 60
    assert last - model.epochs_ == 2


def test_with_valid_the_best_epoch_is_kept_without_retraining(movielens_split, short_search):
    train, _ = movielens_split
    fit, valid = rs.split.random_holdout(train, test_fraction=0.1, seed=1)
    model = rs.BPR(epochs="auto", n_threads=1, patience=1, eval_every=3)
    model.fit(fit, valid=valid, progress=False)
    scored = [(h["epoch"] + 1, h["ndcg@10"]) for h in model.history_ if "ndcg@10" in h]
    best_epoch, best = max(scored, key=lambda e: e[1])
    assert model.epochs_ == best_epoch == model.best_epoch_ + 1
    assert model.best_score_ == best
    # the search's own interval (2) and patience (4 epochs), not the model's
    assert [e for e, _ in scored] == list(range(2, 2 * len(scored) + 1, 2))
    assert scored[-1][0] - best_epoch >= 4 or scored[-1][0] == 12
    assert (model.epochs, model.patience, model.eval_every) == ("auto", 1, 3)
    # the kept factors are the best epoch's: scoring them again gives its value
    assert model._validate(fit.matrix, valid.matrix, "ndcg", 10) == pytest.approx(best)


def test_callbacks_see_the_search_and_the_final_fit(movielens_split, short_search):
    train, _ = movielens_split
    calls = []
    model = rs.BPR(epochs="auto", n_threads=1)
    model.fit(train, callbacks=[lambda e, m, r, t: calls.append(m is model)], progress=False)
    searched = len(model.auto_history_)
    assert calls == [False] * searched + [True] * model.epochs_


def test_a_model_fitted_with_auto_folds_users_in(movielens_split, short_search):
    train, _ = movielens_split
    model = rs.BPR(epochs="auto", n_threads=1).fit(train, progress=False)
    rows = train.matrix[:3]
    assert model.fold_in(rows).shape == (3, model.user_factors.shape[1])


def test_a_wrong_epochs_string_names_the_argument(movielens_split):
    train, _ = movielens_split
    with pytest.raises(ValueError, match="epochs must be .*'auto'"):
        rs.BPR(epochs="best").fit(train, progress=False)


@pytest.mark.parametrize("per_user", [1, 4])
def test_auto_needs_users_with_five_positives(per_user):
    """10% of fewer than 5 positives rounds to none held out."""
    m = sp.csr_matrix(np.kron(np.eye(4), np.ones((1, per_user))).astype(np.float32))
    with pytest.raises(ValueError, match="at least 5"):
        rs.BPR(epochs="auto").fit(m, progress=False)


def test_a_search_that_reaches_the_cap_says_so(movielens_split, monkeypatch):
    train, _ = movielens_split
    monkeypatch.setattr(rs.BPR, "AUTO_MAX_EPOCHS", 4)
    monkeypatch.setattr(rs.BPR, "AUTO_EVAL_EVERY", 2)
    with pytest.warns(RuntimeWarning, match="AUTO_MAX_EPOCHS = 4"):
        model = rs.BPR(epochs="auto", n_threads=1).fit(train, progress=False)
    assert model.auto_capped_
