"""The Gowalla study: selection on validation, test per seed, the summary
beside the published rows (the split's loader is tested in
tests/data/test_gowalla_loader.py)."""
import re
from pathlib import Path

import numpy as np
import pytest

import recsample as rs
from recsample.reproduce import gowalla
from recsample.reproduce.protocol import carve_validation


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


def test_the_plot_draws_the_summary_table(tmp_path):
    """``--out``'s plot takes ``summary``'s table as it is: published rows
    without an sd, recsample rows with one, and the optional targets."""
    pytest.importorskip("matplotlib")
    import pandas as pd
    per_seed = pd.DataFrame({"config": ["a", "a", "b"], "seed": [0, 1, 0], "epochs": [5, 5, 7],
                             "train seconds": [1.0, 1.2, 2.0], "recall@20": [0.18, 0.19, 0.2],
                             "ndcg@20": [0.15, 0.16, 0.17]})
    table = gowalla.summary(per_seed)
    assert table["recall sd"].isna().sum() == len(gowalla.PUBLISHED) + 1  # b: one seed
    path = tmp_path / "g.png"
    gowalla.plot(table, path, targets={"recall@20": 0.192, "ndcg@20": 0.1617})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_reproduce_rejects_unknown_configurations_and_bad_seeds(tmp_path):
    with pytest.raises(ValueError, match="unknown configuration"):
        gowalla.reproduce(tmp_path, names=["lightgcn"])
    with pytest.raises(ValueError, match="seeds"):
        gowalla.reproduce(tmp_path, names=["softmax"], seeds=0)
    assert np.isfinite(gowalla.PUBLISHED[["recall@20", "ndcg@20"]].to_numpy()).all()


def test_the_default_selection_searches_as_epochs_auto_does(movielens_split, monkeypatch):
    """Without eval_every/patience each configuration is checked at its
    trainer's interval and stopped only when its best epoch is older than
    max(AUTO_PATIENCE, AUTO_PATIENCE_FRACTION x best epoch); the curve of
    every check is handed back."""
    train, _ = movielens_split
    monkeypatch.setattr(rs.BPR, "AUTO_EVAL_EVERY", 1)
    monkeypatch.setattr(rs.BPR, "AUTO_PATIENCE", 2)
    monkeypatch.setattr(rs.BPR, "AUTO_PATIENCE_FRACTION", 0.0)
    # a step this large peaks early on this data, then decays
    configs = {"bpr": (rs.BPR, dict(factors=8, epochs=40, learning_rate=0.3))}
    curves = []
    chosen = gowalla.select(train, ["bpr"], configs, progress=False, log=lambda *_: None,
                            curves=curves)
    best = int(chosen["epochs"].iloc[0])
    checked = [c["epoch"] for c in curves]
    assert checked == list(range(1, len(checked) + 1))
    assert checked[-1] - best == 2 and checked[-1] < 40
    scores = [c["valid recall@20"] for c in curves]
    assert scores[best - 1] == max(scores) == chosen["valid recall@20"].iloc[0]
    with pytest.raises(ValueError, match="eval_every and patience"):
        gowalla.select(train, ["bpr"], configs, eval_every=2, progress=False)


def test_the_selection_holds_out_the_share_it_is_given(movielens_split, monkeypatch):
    """``valid_fraction`` is the share of every user's training items the
    selection validates on; the selection table records it, and a share
    outside (0, 1) is refused by name before any training."""
    train, _ = movielens_split
    seen = []

    def carve(data, fraction, seed):
        fit, valid = carve_validation(data, fraction, seed)
        seen.append((fit.nnz, valid.nnz))
        return fit, valid

    monkeypatch.setattr(gowalla, "carve_validation", carve)
    configs = {"bpr": (rs.BPR, dict(factors=8, epochs=2))}
    for fraction in (0.1, 0.3):
        chosen = gowalla.select(train, ["bpr"], configs, valid_fraction=fraction, eval_every=1,
                                patience=1, progress=False, log=lambda *_: None)
        assert chosen["valid fraction"].tolist() == [fraction]
        fit_nnz, valid_nnz = seen[-1]
        assert fit_nnz + valid_nnz == train.nnz
        # rounded per user, so the overall share is close to, not exactly, the fraction
        assert valid_nnz / train.nnz == pytest.approx(fraction, abs=0.02)
    for bad in (0, 1, 1.5, "0.2"):
        with pytest.raises(ValueError, match="valid_fraction"):
            gowalla.select(train, ["bpr"], configs, valid_fraction=bad, progress=False)
    with pytest.raises(ValueError, match="valid_fraction"):
        gowalla.reproduce(Path("no-such-folder"), names=["softmax"], valid_fraction=0.0)
    assert len(seen) == 2


@pytest.mark.parametrize("page", ["reproducing.md", "cli.md"])
def test_the_docs_list_every_configuration(page):
    """The pages that list ``--configs``'s names list them all, in order."""
    text = (Path(__file__).resolve().parents[2] / "docs" / page).read_text()
    start = text.index("`bpr-uniform`")
    listed = re.findall(r"`([a-z0-9-]+)`", text[start:text.index(")", start)])
    assert listed == list(gowalla.configurations())
