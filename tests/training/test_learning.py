"""Every trainer with every sampler learns movielens-small better than popularity."""
import numpy as np
import pytest

import recsample as rs


class Popularity:
    """Rank items by training count: a model with one factor."""

    def __init__(self, train):
        counts = np.bincount(train.matrix.indices, minlength=train.n_items)
        self.user_factors = np.ones((train.n_users, 1), dtype=np.float32)
        self.item_factors = counts.astype(np.float32)[:, None]


def _ndcg10(model, train, test):
    s = rs.evaluate(model, test, train=train, k=(10,), metrics=("ndcg",)).summary()
    return float(s["mean"].iloc[0])


@pytest.fixture(scope="module")
def popularity_ndcg(movielens_split):
    train, test = movielens_split
    return _ndcg10(Popularity(train), train, test)


@pytest.mark.parametrize("model_cls", [rs.BPR, rs.BPO])
@pytest.mark.parametrize("sampler", ["uniform", "popularity", "dns"])
def test_default_settings_beat_popularity_on_ndcg10(movielens_split, popularity_ndcg,
                                                    model_cls, sampler):
    train, test = movielens_split
    model = model_cls(sampler=sampler, seed=0).fit(train, progress=False)
    assert _ndcg10(model, train, test) > popularity_ndcg


def test_early_stopping_keeps_the_best_validation_epoch(movielens):
    train, valid, _ = rs.split.random_holdout(movielens, test_fraction=0.2, valid_fraction=0.1,
                                              seed=1)
    # DNS overfits movielens-small within ~15 epochs, so patience must run out
    model = rs.BPR(epochs=60, sampler="dns", patience=2, eval_every=2, n_threads=1)
    model.fit(train, valid=valid, progress=False)
    scores = [h["ndcg@10"] for h in model.history_ if "ndcg@10" in h]
    assert model.best_score_ == max(scores)
    assert len(model.history_) < 60  # patience ran out before the last epoch
    assert scores[-1] < model.best_score_
    assert _ndcg10(model, train, valid) == pytest.approx(model.best_score_, rel=1e-6)
    # a later fit without validation keeps no best epoch of the earlier one
    model.set_params(epochs=1).fit(train, progress=False)
    assert not hasattr(model, "best_epoch_") and not hasattr(model, "best_score_")


@pytest.fixture(scope="module")
def nbpo_amazon(nbpo_amazon_path):
    train, _, test = rs.load_dataset("nbpo-amazon", path=str(nbpo_amazon_path))
    return train, test


@pytest.mark.parametrize("model_cls", [rs.BPR, rs.BPO])
@pytest.mark.parametrize("sampler", ["warp", "kos"])
def test_rank_weighted_samplers_beat_popularity_on_nbpo_amazon(nbpo_amazon, model_cls, sampler):
    # with their earlier settings (regularization 0.01-0.03) k-OS scored 0.97 x
    # popularity's NDCG@10 here with both losses and WARP 1.03 / 1.11
    # (docs/defaults.md), now 1.49-1.55; 1.2 lies clear of both. The sampler's
    # own settings for the loss must lift them
    train, test = nbpo_amazon
    model = model_cls(sampler=sampler, seed=0, n_threads=1).fit(train, progress=False)
    assert _ndcg10(model, train, test) > 1.2 * _ndcg10(Popularity(train), train, test)
