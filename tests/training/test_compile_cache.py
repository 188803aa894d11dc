"""The compiled training loop: said when it compiles, kept where it can be,
compiled ahead by ``warmup``."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import recsample as rs
from recsample.compilation import builtin_pairs, parse_pair

PACKAGE = Path(rs.__file__).resolve().parent

FIT = r"""
import sys, numpy as np, scipy.sparse as sp
import recsample as rs
from recsample.models import _train
m = sp.random(40, 30, density=0.15, random_state=0, format="csr", dtype=np.float32)
m.data[:] = 1
rs.BPR(factors=4, epochs=1, n_threads=1).fit(m, progress=False)
s = _train.run_block_list.cached.stats
print("misses", sum(s.cache_misses.values()), "hits", sum(s.cache_hits.values()))
"""


def _run(code, env, cwd, read_only=None):
    """Run ``code`` in a fresh interpreter; with ``read_only`` (a folder), in
    a private mount namespace where that folder is mounted read-only (as root,
    for whom file modes alone do not stop a write)."""
    cmd = [sys.executable, "-c", code]
    if read_only is not None:
        cmd = ["unshare", "-m", "sh", "-c",
               'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"',
               str(read_only), *cmd]
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def _can_mount_read_only(folder):
    probe = subprocess.run(["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && '
                            'mount -o remount,ro,bind "$0" && ! touch "$0/probe"', str(folder)],
                           capture_output=True)
    return probe.returncode == 0


def test_warmup_in_a_read_only_install_caches_in_the_users_folder_for_later_fits(tmp_path):
    """A non-editable install copies the package into site-packages. With that
    folder read-only, ``warmup`` compiles the loop into the user's cache folder
    (~/.cache/numba), and a later process's fit loads it from there: no
    compilation, no notice."""
    site = tmp_path / "site-packages"
    shutil.copytree(PACKAGE, site / "recsample",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    home = tmp_path / "home"
    home.mkdir()
    read_only = None
    if os.geteuid() == 0:
        if shutil.which("unshare") is None or not _can_mount_read_only(site):
            pytest.skip("running as root without a private read-only mount (unshare -m), so "
                        "a read-only site-packages cannot be made")
        read_only = site
    else:
        for root, dirs, files in os.walk(site):
            for name in files:
                os.chmod(os.path.join(root, name), 0o444)
            os.chmod(root, 0o555)
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "RECSAMPLE_COMPILE_NOTICE")}
    env.update(HOME=str(home), PYTHONPATH=str(site))
    try:
        warm = _run("import recsample as rs; print(rs.warmup(['bpr+uniform'], jobs=1, "
                    "progress=False))", env, tmp_path, read_only)
        assert warm.returncode == 0, warm.stderr
        assert "bpr+uniform" in warm.stdout
        user_cache = home / ".cache" / "numba"
        assert list(user_cache.rglob("*.nbc")), "nothing was cached in the user's folder"
        assert not list(site.rglob("*.nbc")), "the read-only install was written to"
        fit = _run(FIT, env, tmp_path, read_only)
        assert fit.returncode == 0, fit.stderr
        assert "misses 0 hits 1" in fit.stdout
        assert "compiling" not in fit.stderr
    finally:
        for root, dirs, _ in os.walk(site):
            os.chmod(root, 0o755)


def test_a_compilation_says_so_once_naming_the_cache_folder(capsys, monkeypatch):
    # (a command line run in this process with --quiet silences it for good)
    monkeypatch.delenv("RECSAMPLE_COMPILE_NOTICE", raising=False)
    from numba import njit
    from recsample.compilation import compile_notice

    def twice(x):
        return 2 * x
    kernel = njit(cache=False)(twice)
    with compile_notice("a test kernel", kernel):
        assert kernel(3) == 6
    first = capsys.readouterr().err.splitlines()
    assert len(first) == 2
    assert first[0].startswith("recsample: compiling a test kernel once; later runs load it "
                               "from the cache in memory only")
    assert first[1].startswith("recsample: compiled a test kernel in ")
    with compile_notice("a test kernel", kernel):
        assert kernel(4) == 8                     # compiled already: nothing to say
    assert capsys.readouterr().err == ""


def test_a_fit_names_its_model_and_sampler_in_the_notice(monkeypatch, movielens):
    from recsample.models import _train
    said = []
    real = _train.compile_notice

    def spy(what, kernel, hint=True):
        said.append((what, hint))
        return real(what, kernel, hint=hint)
    monkeypatch.setattr(_train, "compile_notice", spy)
    model = rs.BPR(factors=4, epochs=2, sampler="dns", n_threads=1).fit(movielens,
                                                                         progress=False)
    # once per fit; warmup compiles the training loops, so the notice says so
    assert said == [("the training loop for BPR with sampler DNS", True)]
    model.fold_in(movielens.matrix[:3], epochs=2)
    # once per fold-in, and without the warmup hint: warmup does not compile it
    assert said[1:] == [("folding users into BPR with sampler DNS", False)]


def test_pairs_are_named_model_plus_sampler():
    assert parse_pair("BPR+DNS") == ("bpr", "dns")
    assert parse_pair("evaluate") == ("evaluate", None)
    with pytest.raises(ValueError, match="model one of"):
        parse_pair("bpr-dns")
    with pytest.raises(ValueError, match="sampler one of"):
        parse_pair("bpr+hardest")
    with pytest.raises(ValueError, match="refuses sampler 'kos'"):
        parse_pair("softmax+kos")
    pairs = builtin_pairs()
    assert len(pairs) == len(set(pairs))
    for name in pairs:
        parse_pair(name)
    assert {"bpr+uniform", "softmax+dns", "ccl+popularity", "nbpo+nbpo"} <= set(pairs)
    assert "softmax+kos" not in pairs


def test_warmup_refuses_a_bad_pair_before_any_work():
    with pytest.raises(ValueError, match="bpr\\+nope"):
        rs.warmup(["bpr+uniform", "bpr+nope"])
    with pytest.raises(ValueError, match="jobs must be"):
        rs.warmup(["bpr+uniform"], jobs=0)


def test_cli_warmup_lists_and_refuses(capsys):
    from recsample.cli import main
    assert main(["warmup", "--list"]) == 0
    assert "bpr+uniform" in capsys.readouterr().out.split()
    assert main(["warmup", "bpr+nope"]) == 2
    assert "sampler one of" in capsys.readouterr().err
