"""The NBPO reproduction: metric definitions, the two selection protocols, a
tiny real run, the command-line options and the example notebook."""
import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recsample.evaluation.metrics import per_user_metrics
from recsample.reproduce import nbpo
from recsample.reproduce.nbpo import (authors_f1, authors_ndcg, authors_settings, paired_tests,
                                      reproduce, select_authors, select_strict)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# ------------------------------------------------------------- definitions
def _brute_force(order, k, relevant):
    """F1@k and NDCG@k of one ranked list, written out from the definitions:
    P = |top-k & R| / |top-k|, R = |top-k & R| / |R|, F1 = 2PR / (P + R);
    DCG over the top k with 1/log2(rank + 1), IDCG over min(|R|, k) ranks."""
    top = order[:k]
    h = len(set(top) & set(relevant))
    p = h / len(top) if top else 0.0
    r = h / len(set(relevant))
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    dcg = sum(1 / math.log2(rank + 2) for rank, item in enumerate(top) if item in relevant)
    idcg = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return f1, dcg / idcg


def test_authors_definitions_match_brute_force():
    rng = np.random.default_rng(3)
    n_items, L = 40, 20
    orders, rels = [], []
    for _ in range(200):
        length = int(rng.integers(1, L + 1))  # some lists end before k (few items left)
        orders.append(list(rng.permutation(n_items)[:length]))
        rels.append(list(rng.choice(n_items, size=int(rng.integers(1, 12)), replace=False)))
    hits = np.zeros((len(orders), L), dtype=bool)
    for u, (o, r) in enumerate(zip(orders, rels)):
        hits[u, :len(o)] = np.isin(o, r)
    n_rel = np.array([len(r) for r in rels])
    listed = np.array([len(o) for o in orders])
    for k in (1, 2, 5, 10, 20):
        want = np.array([_brute_force(o, k, r) for o, r in zip(orders, rels)])
        np.testing.assert_allclose(authors_f1(hits, n_rel, k, listed), want[:, 0], atol=1e-9)
        np.testing.assert_allclose(authors_ndcg(hits, n_rel, k), want[:, 1], atol=1e-9)


def test_authors_definitions_equal_recsample_when_k_items_are_ranked():
    rng = np.random.default_rng(4)
    hits = rng.random((300, 20)) < 0.15
    n_rel = rng.integers(1, 30, size=300)
    ours = per_user_metrics(hits.view(np.uint8), n_rel, [2, 5, 10, 20], ["f1", "ndcg"])
    for j, k in enumerate((2, 5, 10, 20)):
        np.testing.assert_allclose(authors_f1(hits, n_rel, k), ours[0, j], atol=1e-12)
        np.testing.assert_allclose(authors_ndcg(hits, n_rel, k), ours[1, j], atol=1e-12)


def test_authors_f1_divides_precision_by_the_items_actually_listed():
    # one hit in a list cut to 2 items, k = 5: the authors' P = 1/2, recsample's P = 1/5
    hits = np.array([[True, False, False, False, False]])
    assert authors_f1(hits, [1], 5, n_listed=[2])[0] == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert authors_f1(hits, [1], 5)[0] == pytest.approx(2 * 0.2 * 1 / 1.2)


def test_definitions_reject_a_short_hit_matrix():
    with pytest.raises(ValueError, match="k=5"):
        authors_ndcg(np.zeros((2, 3), bool), [1, 1], 5)


# ------------------------------------------------------------- protocols
def _table():
    """2 models x 2 seeds x epochs 0..3, split valid/test, ndcg/f1 at k 2 and 10."""
    rows = []
    valid = {  # (model, seed) -> ndcg@10 per epoch; f1@2 peaks elsewhere
        ("BPR", 0): [0.1, 0.5, 0.4, 0.5], ("BPR", 1): [0.1, 0.2, 0.6, 0.3],
        ("NBPO", 0): [0.1, 0.3, 0.3, 0.7], ("NBPO", 1): [0.1, 0.8, 0.2, 0.2],
    }
    for (model, seed), nd in valid.items():
        for epoch, v in enumerate(nd):
            rows += [(model, seed, epoch, "valid", "ndcg", 10, v),
                     (model, seed, epoch, "valid", "ndcg", 2, v / 2),
                     (model, seed, epoch, "valid", "f1", 2, 0.9 - v),  # best at worst ndcg
                     (model, seed, epoch, "test", "ndcg", 10, 10 * seed + epoch),
                     (model, seed, epoch, "test", "f1", 2, 100 + epoch)]
    return pd.DataFrame(rows, columns=["model", "seed", "epoch", "split", "metric", "k", "value"])


def test_protocol_a_takes_the_best_epoch_per_metric_and_cutoff_separately():
    a = select_authors(_table(), "valid").set_index(["model", "metric", "k"])
    # BPR ndcg@10: seeds peak at 0.5 (epoch 1) and 0.6 (epoch 2)
    assert a.loc[("BPR", "ndcg", 10), "mean"] == pytest.approx(0.55)
    assert a.loc[("BPR", "ndcg", 10), "std"] == pytest.approx(0.05)  # ddof 0
    # f1@2 = 0.9 - ndcg peaks at epoch 0 (0.8) in every run: its own epoch
    assert a.loc[("NBPO", "f1", 2), "mean"] == pytest.approx(0.8)
    assert a.loc[("NBPO", "ndcg", 10), "mean"] == pytest.approx(0.75)
    assert (a["runs"] == 2).all()
    top2 = select_authors(_table(), "valid", top=2).set_index(["model", "metric", "k"])
    # BPR seed 0: 0.5, 0.5; seed 1: 0.6, 0.3 -> (0.5 + 0.45) / 2
    assert top2.loc[("BPR", "ndcg", 10), "mean"] == pytest.approx(0.475)


def test_protocol_b_reports_test_at_the_epoch_of_best_validation_ndcg10():
    per_seed, summary = select_strict(_table(), report_splits=("test",))
    epochs = per_seed.groupby(["model", "seed"])["epoch"].first().to_dict()
    # BPR seed 0 ties at epochs 1 and 3: the first is kept
    assert epochs == {("BPR", 0): 1, ("BPR", 1): 2, ("NBPO", 0): 3, ("NBPO", 1): 1}
    s = summary.set_index(["model", "split", "metric", "k"])
    assert s.loc[("BPR", "test", "ndcg", 10), "mean"] == pytest.approx((1 + 12) / 2)
    assert s.loc[("BPR", "test", "ndcg", 10), "std"] == pytest.approx(np.std([1, 12], ddof=1))
    assert s.loc[("NBPO", "test", "f1", 2), "mean"] == pytest.approx(102)
    assert s.loc[("NBPO", "test", "ndcg", 10), "epoch"] == pytest.approx(2)


def test_paired_tests_agree_with_scipy():
    a, b = [0.30, 0.32, 0.31, 0.35, 0.33], [0.29, 0.30, 0.32, 0.31, 0.30]
    per_seed = pd.DataFrame(
        [("NBPO", s, 5, "test", "ndcg", 10, v) for s, v in enumerate(a)]
        + [("BPO", s, 5, "test", "ndcg", 10, v) for s, v in enumerate(b)],
        columns=["model", "seed", "epoch", "split", "metric", "k", "value"])
    r = paired_tests(per_seed, pairs=(("NBPO", "BPO"),)).iloc[0]
    assert r["p_t"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert r["p_wilcoxon"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    assert r["a_wins"] == 4 and r["runs"] == 5


def test_protocols_name_what_is_missing():
    with pytest.raises(ValueError, match="split='nope'"):
        select_authors(_table(), "nope")
    with pytest.raises(ValueError, match="columns"):
        select_strict(_table().drop(columns="epoch"))


# ------------------------------------------------------------- settings and CLI
def test_settings_follow_the_authors_scripts():
    s = authors_settings(negatives=3)
    assert s["BPO"]["regularization"] == 2.0 and s["BPR"]["regularization"] == 1.0
    assert s["NBPO"]["lambda_phi"] == 5.0 and s["NBPO"]["negatives"] == 3
    # the authors decay eta before each epoch: epoch e >= 1 uses 0.05 * 0.99^e
    lr = [s["NBPO"]["learning_rate"] * s["NBPO"]["learning_rate_decay"] ** e for e in range(3)]
    np.testing.assert_allclose(lr, [0.05 * 0.99 ** e for e in (1, 2, 3)])
    with pytest.raises(ValueError, match="negatives"):
        authors_settings(negatives=0)


def test_command_line_options_and_errors(capsys, tmp_path):
    parser = nbpo.add_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--path", str(tmp_path), "--seeds", "2", "--negatives", "3",
                              "--set", "BPO.regularization=1", "--no-progress"])
    assert args.overrides == [("BPO", "regularization", 1)]
    assert nbpo.run(args) == 2  # no data in tmp_path
    assert "lacks" in capsys.readouterr().err
    # a bad count is refused by the option's name as it is parsed
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["--seeds", "0"])
    assert exc.value.code == 2
    assert "argument --seeds: expected a positive integer, got '0'" in capsys.readouterr().err


# ------------------------------------------------------------- real data
def test_tiny_reproduction_on_the_authors_split(nbpo_amazon_path, tmp_path):
    r = reproduce(nbpo_amazon_path, seeds=2, epochs=3, n_jobs=1, progress=False,
                  out=tmp_path / "out")
    pe = r.per_epoch
    assert len(pe) == 3 * 2 * 4 * 3 * 2 * 4  # models x seeds x epochs 0..3 x splits x metrics x k
    assert pe["value"].between(0, 1).all()
    # one seed, one initialisation of U, V for every model: epoch 0 agrees
    e0 = pe[pe["epoch"] == 0].pivot_table(index=["seed", "split", "metric", "k"],
                                          columns="model", values="value")
    np.testing.assert_allclose(e0["BPR"], e0["NBPO"])
    # training helps within three epochs
    v = pe[(pe["split"] == "valid") & (pe["metric"] == "ndcg") & (pe["k"] == 10)]
    assert (v[v["epoch"] == 3]["value"].mean() > 2 * v[v["epoch"] == 0]["value"].mean())
    assert set(r.protocol_a["model"]) == {"BPR", "BPO", "NBPO"}
    assert set(r.protocol_b["split"]) == {"test", "test_strict"}
    assert len(r.comparison) == 8 and len(r.paired) == 4
    assert "(b) strict" in r.table()
    for name in ("per_epoch.csv.gz", "protocol_a.csv", "protocol_b.csv", "paired_tests.csv",
                 "table.md", "valid_ndcg10.png", "settings.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    back = pd.read_csv(tmp_path / "out" / "per_epoch.csv.gz")
    assert len(back) == len(pe)


def test_example_notebook_runs(nbpo_amazon_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("RECSAMPLE_QUICK", "1")
    monkeypatch.setenv("RECSAMPLE_NBPO_AMAZON", str(nbpo_amazon_path))
    nb = nbformat.read(EXAMPLES / "reproduce_nbpo.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
