"""The Ray backend of rs.experiments.run on a local 2-CPU Ray instance: same rows
as the local backend, retries after a worker dies, failures reported, resume."""
import os

import pandas as pd
import pytest

import recsample as rs
from recsample.experiments import read_results

ray = pytest.importorskip("ray", reason='the Ray backend tests need Ray: '
                                        'pip install "recsample[ray]"')

SMALL = {"factors": 8, "epochs": 2, "n_threads": 1}
KEY = ["sampler", "seed", "metric", "k"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One Ray instance for the module (start-up takes several seconds)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 1024 ** 2)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def data():
    return rs.datasets.synthetic(150, 200, 3000, seed=0)


def die_on_first_attempt(marker):
    """An epoch callback that kills its worker process the first time it runs
    anywhere (the marker file remembers), so the retried task succeeds."""
    def callback(epoch, model, record, elapsed):
        if not os.path.exists(marker):
            with open(marker, "w"):
                pass
            os._exit(1)
    return callback


def always_fail():
    """An epoch callback that raises on every attempt. (Built in a function so
    Ray ships it by value: workers cannot import this test module.)"""
    def callback(epoch, model, record, elapsed):
        raise RuntimeError("this configuration always fails")
    return callback


def grid(*samplers, extra=None):
    out = [{"sampler": s, "params": dict(SMALL)} for s in samplers]
    return out + list(extra or [])


def sort(df):
    return df.sort_values(KEY).reset_index(drop=True).drop(columns="fit_seconds")


def test_ray_backend_survives_a_dead_worker_and_matches_the_local_backend(data, tmp_path):
    marker = tmp_path / "died-once"
    killer = {"sampler": "dns", "params": dict(SMALL),
              "callbacks": [die_on_first_attempt(str(marker))]}
    configs = grid("uniform", "popularity", extra=[killer])
    out = tmp_path / "ray.csv"
    df = rs.experiments.run(configs, {"syn": data}, seeds=2, metrics=("ndcg", "recall"),
                            out=out, backend="ray", max_retries=2, progress=False)
    assert marker.exists()                       # a worker really died mid-grid
    assert df.attrs["failed"] == []
    assert len(df.groupby(["sampler", "seed"])) == 6
    local = rs.experiments.run(grid("uniform", "popularity", "dns"), {"syn": data}, seeds=2,
                               metrics=("ndcg", "recall"), progress=False)
    # one training thread per task: the same factors, hence the same metrics, as locally
    pd.testing.assert_frame_equal(sort(df), sort(local))
    pd.testing.assert_frame_equal(df, read_results(out))


def test_a_run_that_keeps_failing_is_reported_and_the_others_are_kept(data, tmp_path):
    configs = grid("uniform", extra=[{"sampler": "popularity", "params": dict(SMALL),
                                      "callbacks": [always_fail()]}])
    out = tmp_path / "partial.csv"
    with pytest.warns(RuntimeWarning, match="1 of 2 runs failed.*always fails"):
        df = rs.experiments.run(configs, {"syn": data}, seeds=1, metrics=("ndcg",), out=out,
                                backend="ray", max_retries=1, progress=False)
    assert list(df["sampler"]) == ["uniform"]
    [failed] = df.attrs["failed"]
    assert failed["sampler"] == "popularity" and "always fails" in failed["error"]
    assert list(read_results(out)["sampler"]) == ["uniform"]


def test_ray_backend_resumes_from_the_results_file(data, tmp_path):
    out = tmp_path / "resume.csv"
    rs.experiments.run(grid("uniform"), {"syn": data}, seeds=2, metrics=("ndcg",), out=out,
                       progress=False)
    fresh = []
    df = rs.experiments.run(grid("uniform", "popularity"), {"syn": data}, seeds=2,
                            metrics=("ndcg",), out=out, backend="ray", progress=False,
                            on_result=fresh.append)
    assert len(fresh) == 2 and set(pd.concat(fresh)["sampler"]) == {"popularity"}
    assert len(df) == 4
