"""The 'user item item ...' benchmark format and the Gowalla and Yelp2018 splits
read from it."""
import pytest

import recsample as rs
from recsample.datasets import load_user_item_split, read_user_item_lines


def _write(folder, train, test):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.txt").write_text(train)
    (folder / "test.txt").write_text(test)
    return folder


def test_lines_give_one_interaction_per_listed_item(tmp_path):
    f = tmp_path / "train.txt"
    f.write_text("0 1 2 3\n\n2 0\n1\n")
    users, items = read_user_item_lines(f)
    assert users.tolist() == [0, 0, 0, 2]
    assert items.tolist() == [1, 2, 3, 0]


@pytest.mark.parametrize("text, line, what", [
    ("0 1 2\n1 x 3\n", 2, "'x' is not an integer"),
    ("0 1 2\n1 3\n2 -4\n", 3, "negative id"),
    ("0 1\n1 2\n0 3\n", 3, "user 0 is listed on an earlier line"),
    ("0 1.5\n", 1, "'1.5' is not an integer"),
])
def test_malformed_lines_are_errors_naming_the_line(tmp_path, text, line, what):
    f = tmp_path / "train.txt"
    f.write_text(text)
    with pytest.raises(ValueError, match=f"train.txt:{line}: .*{what}"):
        read_user_item_lines(f)


def test_split_shares_one_index_space_and_counts_repeats_once(tmp_path):
    folder = _write(tmp_path / "split", "0 0 1 1\n1 2\n", "0 3\n2 4\n")
    train, test = load_user_item_split(folder, name="toy")
    assert train.matrix.shape == test.matrix.shape == (3, 5)
    assert train.nnz == 3 and test.nnz == 2
    assert (train.matrix.data == 1.0).all()


def test_missing_files_and_wrong_checksums_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"lacks \['train.txt', 'test.txt'\]"):
        rs.load_dataset("gowalla", path=tmp_path)
    folder = _write(tmp_path / "g", "0 1\n", "0 2\n")
    with pytest.raises(ValueError, match="train.txt: sha256 mismatch"):
        rs.load_dataset("gowalla", path=folder)
    train, test = rs.load_dataset("gowalla", path=folder, verify=False)
    assert train.nnz == test.nnz == 1


def test_yelp2018_reads_the_same_format_without_a_fixed_checksum(tmp_path):
    folder = _write(tmp_path / "y", "0 1 2\n1 0\n", "0 3\n1 2\n")
    train, test = rs.load_dataset("yelp2018", path=folder)
    assert (train.nnz, test.nnz) == (3, 2)


@pytest.mark.shared_data
def test_gowalla_release_has_its_published_size(gowalla_path):
    train, test = rs.load_dataset("gowalla", path=gowalla_path)
    assert train.matrix.shape == (29_858, 40_981)
    assert (train.nnz, test.nnz) == (810_128, 217_242)
    assert train.matrix.multiply(test.matrix).nnz == 0  # disjoint
