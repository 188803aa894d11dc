"""rs.experiments: grids of runs, the resumable results file, summaries, paired tests."""
import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import recsample as rs
from recsample.experiments import COLUMNS, normalize_config, read_results

SMALL = {"factors": 8, "epochs": 2}


@pytest.fixture(scope="module")
def data():
    return rs.datasets.synthetic(150, 200, 3000, seed=0)


def configs(*samplers):
    return [{"model": "bpr", "sampler": s, "params": dict(SMALL)} for s in samplers]


def test_run_gives_one_tidy_row_per_run_metric_and_cutoff(data, tmp_path):
    df = rs.experiments.run(configs("uniform", "popularity"), {"syn": data}, seeds=2,
                            k=(5, 10), metrics=("ndcg", "recall", "auc"),
                            out=tmp_path / "r.csv", progress=False)
    assert list(df.columns) == COLUMNS
    # 2 configs x 2 seeds x (2 metrics x 2 k + auc)
    assert len(df) == 2 * 2 * 5
    assert set(df["dataset"]) == {"syn"} and set(df["seed"]) == {0, 1}
    assert df.loc[df["metric"] == "auc", "k"].isna().all()
    assert (df["epochs"] == 2).all() and (df["fit_seconds"] > 0).all()
    assert df["value"].between(0, 1).all()
    assert json.loads(df["params"].iloc[0]) == SMALL
    # what is returned is what the file holds
    pd.testing.assert_frame_equal(df, read_results(tmp_path / "r.csv"))


def test_the_seed_drives_the_split_and_a_fixed_pair_is_used_for_every_seed(data):
    train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=0)
    fixed = rs.experiments.run(configs("uniform"), {"pair": (train, test)}, seeds=[0, 1],
                               metrics=("ndcg",), progress=False)
    split = rs.experiments.run(configs("uniform"), {"syn": data}, seeds=[0, 1],
                               metrics=("ndcg",), progress=False)
    # seed 0 of a named/Interactions dataset is random_holdout(0.2, seed=0): identical run
    assert fixed["value"].iloc[0] == pytest.approx(split["value"].iloc[0], abs=1e-12)
    assert fixed["value"].iloc[1] != split["value"].iloc[1]


def test_params_key_is_canonical_whatever_the_config_form():
    a = normalize_config({"model": "bpr", "sampler": "dns", "params": {"factors": 8}})
    b = normalize_config(rs.BPR(factors=8, sampler=rs.samplers.DNS(), negatives=1, seed=7))
    assert (a.model, a.sampler, a.params) == (b.model, b.sampler, b.params) == \
        ("bpr", "dns", '{"factors": 8}')
    c = normalize_config({"sampler": rs.samplers.NBPO(lambda_phi=0.01)})
    assert json.loads(c.params) == {"sampler": {"lambda_phi": 0.01}}
    d = normalize_config({"sampler": {"name": "nbpo", "lambda_phi": 0.01}})
    assert d.params == c.params
    # n_threads chooses resources, not the model: it stays out of the key
    e = normalize_config({"sampler": "dns", "params": {"factors": 8, "n_threads": 1}})
    assert e.params == a.params and e.build(0).n_threads == 1


@pytest.mark.parametrize("config, message", [
    ({"model": "bpx"}, "did you mean 'bpr'"),
    ({"sampler": "dsn"}, "did you mean 'dns'"),
    ({"params": {"factor": 8}}, "did you mean 'factors'"),
    ({"params": {"seed": 3}}, "seeds come from"),
    ({"sampelr": "dns"}, "unknown key 'sampelr'"),
])
def test_bad_configs_are_rejected_before_any_run(config, message, data):
    with pytest.raises(ValueError, match=message):
        rs.experiments.run([config], {"syn": data}, seeds=1, progress=False)


def test_an_interrupted_grid_keeps_finished_runs_and_resumes_only_the_rest(data, tmp_path):
    out = tmp_path / "grid.csv"
    grid = configs("uniform", "popularity", "dns")
    seen = []

    def stop_after_two(rows):
        seen.append(rows)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rs.experiments.run(grid, {"syn": data}, seeds=2, metrics=("ndcg",), out=out,
                           progress=False, on_result=stop_after_two)
    kept = read_results(out)
    assert len(kept.groupby(["sampler", "seed"])) == 2      # both finished runs are on disk

    second = []
    df = rs.experiments.run(grid, {"syn": data}, seeds=2, metrics=("ndcg",), out=out,
                            progress=False, on_result=second.append)
    assert len(second) == 6 - 2                              # only the missing runs ran
    assert len(df) == 6 and not df.duplicated(["sampler", "seed"]).any()
    # the two old runs come back unchanged
    first = pd.concat(seen)
    merged = df.merge(first, on=["sampler", "seed", "metric"], suffixes=("", "_old"))
    assert (merged["value"] == merged["value_old"]).all() and len(merged) == 2


def test_a_torn_last_line_is_dropped_before_appending(data, tmp_path):
    out = tmp_path / "torn.csv"
    rs.experiments.run(configs("uniform"), {"syn": data}, seeds=1, metrics=("ndcg",), out=out,
                       progress=False)
    with open(out, "a") as fh:
        fh.write("syn,bpr,popularity,\"{\"\"epo")      # a crash in the middle of a write
    df = rs.experiments.run(configs("uniform", "popularity"), {"syn": data}, seeds=1,
                            metrics=("ndcg",), out=out, progress=False)
    assert sorted(df["sampler"]) == ["popularity", "uniform"]
    assert len(read_results(out)) == 2


def test_a_failing_run_is_reported_and_the_others_are_kept(data, tmp_path):
    def explode(epoch, model, record, elapsed):
        raise ValueError("boom in training")

    grid = configs("uniform") + [{"sampler": "popularity", "params": dict(SMALL),
                                  "callbacks": [explode]}]
    with pytest.warns(RuntimeWarning, match="1 of 2 runs failed.*boom in training"):
        df = rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",),
                                out=tmp_path / "f.csv", progress=False)
    assert list(df["sampler"]) == ["uniform"]
    params = json.dumps(SMALL, sort_keys=True, separators=(", ", ": "))
    assert df.attrs["failed"] == [{"dataset": "syn", "model": "bpr", "sampler": "popularity",
                                   "params": params, "seed": 0,
                                   "error": "ValueError: boom in training"}]
    with pytest.raises(ValueError, match="boom"):
        rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",), progress=False,
                           errors="raise")


def test_summarize_gives_mean_std_and_t_interval_over_seeds(data):
    df = rs.experiments.run(configs("uniform"), {"syn": data}, seeds=3, metrics=("ndcg",),
                            k=(10,), progress=False)
    s = rs.experiments.summarize(df)
    assert len(s) == 1
    v = df["value"].to_numpy()
    half = stats.t.ppf(0.975, 2) * v.std(ddof=1) / np.sqrt(3)
    row = s.iloc[0]
    assert row["seeds"] == 3
    assert row["mean"] == pytest.approx(v.mean())
    assert row["std"] == pytest.approx(v.std(ddof=1))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((v.mean() - half, v.mean() + half))


def test_paired_tests_pair_runs_by_seed(data):
    df = rs.experiments.run(configs("uniform", "popularity"), {"syn": data}, seeds=4,
                            metrics=("ndcg", "recall"), k=(10,), progress=False)
    out = rs.experiments.paired_tests(df, "uniform", {"sampler": "popularity"})
    assert list(out["metric"]) == ["ndcg", "recall"] and (out["seeds"] == 4).all()
    a = df[(df.sampler == "uniform") & (df.metric == "ndcg")].sort_values("seed")["value"]
    b = df[(df.sampler == "popularity") & (df.metric == "ndcg")].sort_values("seed")["value"]
    row = out.iloc[0]
    assert row["diff"] == pytest.approx((a.to_numpy() - b.to_numpy()).mean())
    assert row["t_pvalue"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert row["wilcoxon_pvalue"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    with pytest.raises(ValueError, match="matches no rows"):
        rs.experiments.paired_tests(df, "dns", "uniform")


def test_out_must_be_a_writable_csv(data, tmp_path):
    with pytest.raises(ValueError, match="Parquet"):
        rs.experiments.run(configs("uniform"), {"syn": data}, seeds=1,
                           out=tmp_path / "r.parquet", progress=False)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="cannot write the results file"):
        rs.experiments.run(configs("uniform"), {"syn": data}, seeds=1,
                           out=blocker / "r.csv", progress=False)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a recsample results file"):
        rs.experiments.run(configs("uniform"), {"syn": data}, seeds=1, out=other,
                           progress=False)


def test_seeds_must_be_positive(data):
    with pytest.raises(ValueError, match="seeds must be a positive integer"):
        rs.experiments.run(configs("uniform"), {"syn": data}, seeds=0, progress=False)


def test_unknown_dataset_name_suggests_the_closest(tmp_path):
    with pytest.raises(ValueError, match="did you mean 'movielens-small'"):
        rs.experiments.run(configs("uniform"), "movielens-smal", seeds=1, progress=False)


def test_ray_backend_without_ray_says_how_to_install(data, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)     # makes `import ray` fail
    with pytest.raises(ImportError, match=r'pip install "recsample\[ray\]"'):
        rs.experiments.run(configs("uniform"), {"syn": data}, seeds=1, backend="ray",
                           progress=False)


def test_local_backend_and_import_do_not_load_ray():
    code = ("import sys, recsample as rs\n"
            "d = rs.datasets.synthetic(60, 80, 600, seed=0)\n"
            "rs.experiments.run({'params': {'factors': 4, 'epochs': 1}}, {'d': d}, seeds=1,"
            " metrics=('ndcg',), progress=False)\n"
            "assert 'ray' not in sys.modules, 'ray was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_parallel_local_jobs_give_the_same_rows_as_one_job(data):
    grid = [{"sampler": s, "params": {**SMALL, "n_threads": 1}} for s in ("uniform", "dns")]
    one = rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",), progress=False)
    two = rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",), progress=False,
                             n_jobs=2)
    key = ["sampler", "seed", "metric"]
    pd.testing.assert_frame_equal(
        one.sort_values(key).reset_index(drop=True).drop(columns="fit_seconds"),
        two.sort_values(key).reset_index(drop=True).drop(columns="fit_seconds"))


def test_plot_summary_writes_a_png(data, tmp_path):
    pytest.importorskip("matplotlib")
    df = rs.experiments.run(configs("uniform", "popularity"), {"syn": data}, seeds=2,
                            metrics=("ndcg", "recall"), k=(5, 10), progress=False)
    path = tmp_path / "p.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs.experiments.plot_summary(rs.experiments.summarize(df), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resuming_refuses_rows_whose_defaults_have_changed(data, tmp_path, monkeypatch):
    """The run key lists only settings that differ from the defaults, so a
    changed default would make old rows pass for new ones; the settings file
    beside the results catches it, and a file without one is reused with a
    warning."""
    out = tmp_path / "grid.csv"
    grid = configs("uniform")
    rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",), out=out, progress=False)
    settings = out.with_name(out.name + ".settings.jsonl")
    assert settings.is_file() and '"learning_rate"' in settings.read_text()
    again = []
    rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",), out=out,
                       progress=False, on_result=again.append)
    assert again == []                                       # unchanged defaults: resumed
    monkeypatch.setitem(rs.BPR.trainer_defaults, "learning_rate", 0.123)
    with pytest.raises(ValueError, match=r"learning_rate: 0\.\d+ then, 0\.123 now"):
        rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",), out=out,
                           progress=False)
    settings.unlink()                                        # as an older version wrote it
    with pytest.warns(RuntimeWarning, match="no recorded settings"):
        df = rs.experiments.run(grid, {"syn": data}, seeds=1, metrics=("ndcg",), out=out,
                                progress=False)
    assert len(df) == 1
