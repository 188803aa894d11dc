"""The protocol pieces shared by the reproductions: per-epoch records with
divergence, summaries over seeds, and one paired test behind both tables."""
import numpy as np
import pandas as pd
import pytest

import recsample as rs
from recsample.reproduce import protocol


class _Factors:
    """A stand-in model: epoch e leaves factors equal to e + 1; with
    ``diverge_at`` set it raises FloatingPointError in that epoch."""

    def __init__(self, epochs, diverge_at=None):
        self.epochs, self.diverge_at = epochs, diverge_at
        self.user_factors = self.item_factors = np.zeros((1, 1))

    def fit(self, train, callbacks=(), progress=False):
        for e in range(self.epochs):
            if e == self.diverge_at:
                raise FloatingPointError("diverged")
            self.user_factors = np.full((1, 1), e + 1.0)
            for cb in callbacks:
                cb(e, self, {}, 0.0)
        return self


def test_record_epochs_keeps_epoch_zero_and_blanks_rows_after_a_divergence():
    evaluate = lambda U, V: np.array([U[0, 0], 2 * U[0, 0]])  # noqa: E731
    values, seconds, diverged = protocol.record_epochs(
        lambda n: _Factors(n), None, evaluate, 3, (2,))
    assert values[:, 0].tolist() == [0, 1, 2, 3] and diverged is None and seconds >= 0
    values, _, diverged = protocol.record_epochs(
        lambda n: _Factors(n, diverge_at=2), None, evaluate, 3, (2,))
    assert diverged == 3
    assert values[:3, 1].tolist() == [0, 2, 4] and np.isnan(values[3]).all()


def test_mean_std_groups_in_order_of_appearance_with_the_given_ddof():
    df = pd.DataFrame({"config": ["z", "z", "a", "a"], "value": [1.0, 3.0, 2.0, 2.0]})
    out = protocol.mean_std(df, "config", ddof=0)
    assert out["config"].tolist() == ["z", "a"]
    assert out["mean"].tolist() == [2.0, 2.0] and out["std"].tolist() == [1.0, 0.0]
    assert protocol.mean_std(df, "config")["std"].iloc[0] == pytest.approx(np.sqrt(2))


def test_reproduction_and_grid_paired_tests_are_one_computation():
    """The same seeds through the reproduction's table and the experiments'
    tidy table give the same means and p-values."""
    a, b = [0.30, 0.32, 0.31, 0.35, 0.33], [0.29, 0.30, 0.32, 0.31, 0.30]
    per_seed = pd.DataFrame(
        [("A", s, 1, "test", "ndcg", 10, v) for s, v in enumerate(a)]
        + [("B", s, 1, "test", "ndcg", 10, v) for s, v in enumerate(b)],
        columns=list(protocol.TABLE_COLUMNS))
    ours = protocol.paired_by_seed(per_seed, [("A", "B")]).iloc[0]
    tidy = per_seed.assign(dataset="d", sampler=per_seed["model"], params="{}",
                           fit_seconds=0.0, epochs=1)
    grid = rs.experiments.paired_tests(tidy, "A", "B").iloc[0]
    assert ours["p_t"] == pytest.approx(grid["t_pvalue"])
    assert ours["p_wilcoxon"] == pytest.approx(grid["wilcoxon_pvalue"])
    assert ours["mean_diff"] == pytest.approx(grid["diff"])
    assert ours["runs"] == grid["seeds"] == 5


def test_paired_test_is_nan_without_two_differing_pairs():
    r = rs.experiments.stats.paired_test([0.1, 0.2], [0.1, 0.2])
    assert np.isnan(r["t_pvalue"]) and np.isnan(r["wilcoxon_pvalue"]) and r["a_wins"] == 0
    with pytest.raises(ValueError, match="same length"):
        rs.experiments.stats.paired_test([0.1, 0.2], [0.1])
