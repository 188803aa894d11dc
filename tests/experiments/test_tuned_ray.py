"""Tuned comparisons on Ray: the same studies and rows as in this process."""
import pytest

import recsample as rs
from recsample.experiments.tuned import TunedConfig, run_tuned

ray = pytest.importorskip("ray", reason='the Ray tests need Ray: pip install "recsample[ray]"')
pytest.importorskip("optuna", reason="tuning needs optuna (pip install -e .[tune])")


def test_ray_backend_gives_the_same_settings_and_rows_as_local(tmp_path):
    data = rs.datasets.synthetic(120, 150, 2500, seed=0)
    configs = [TunedConfig("bpr", rs.samplers.Uniform(), (("factors", 8),)),
               TunedConfig("popular")]
    options = {"max_epochs": 3, "eval_every": 1}
    common = dict(seeds=2, trials=2, k=(10,), metrics=("ndcg",), n_threads=1, progress=False,
                  tune_options=options)
    local = run_tuned(configs, data, out=tmp_path / "local.csv", **common)
    remote = run_tuned(configs, data, out=tmp_path / "ray.csv", backend="ray", num_cpus=2,
                       **common)
    key = ["model", "sampler", "seed", "metric", "k"]
    a = local.sort_values(key).reset_index(drop=True)
    b = remote.sort_values(key).reset_index(drop=True)
    assert a["value"].tolist() == b["value"].tolist()
    settings = lambda df: sorted(r["settings"] for r in df.attrs["settings"])  # noqa: E731
    assert settings(local) == settings(remote)
