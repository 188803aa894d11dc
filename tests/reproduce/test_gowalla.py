"""The Gowalla study: selection on validation, test per seed, the summary
beside the published rows (the split's loader is tested in
tests/data/test_gowalla_loader.py)."""
import numpy as np
import pytest

import recsample as rs
from recsample.reproduce import gowalla


def test_the_study_selects_on_validation_and_reports_test_per_seed(movielens_split):
    """The two steps on small data: selection never sees test, and the test
    step trains each configuration the selected number of epochs per seed."""
    train, test = movielens_split
    configs = {"bpr": (rs.BPR, dict(factors=8, epochs=6)),
               "softmax": (rs.Softmax, dict(factors=8, epochs=6, negatives=16))}
    chosen = gowalla.select(train, list(configs), configs, eval_every=2, patience=1,
                            progress=False, log=lambda *_: None)
    assert set(chosen["config"]) == {"bpr", "softmax"}
    assert chosen["epochs"].between(1, 6).all()
    per_seed = gowalla.final(train, test, dict(zip(chosen["config"], chosen["epochs"])),
                             seeds=2, configs=configs, progress=False, log=lambda *_: None)
    assert len(per_seed) == 4 and per_seed["recall@20"].between(0, 1).all()
    table = gowalla.summary(per_seed)
    assert table["model"].str.startswith("recsample").sum() == 2
    assert (table["source"] == "published (selected on test)").sum() == len(gowalla.PUBLISHED)


def test_reproduce_rejects_unknown_configurations_and_bad_seeds(tmp_path):
    with pytest.raises(ValueError, match="unknown configuration"):
        gowalla.reproduce(tmp_path, names=["lightgcn"])
    with pytest.raises(ValueError, match="seeds"):
        gowalla.reproduce(tmp_path, names=["softmax"], seeds=0)
    assert np.isfinite(gowalla.PUBLISHED[["recall@20", "ndcg@20"]].to_numpy()).all()
