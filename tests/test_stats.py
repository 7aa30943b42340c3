import numpy as np
import pytest
from scipy import stats as sps

from datadiet_core import stats


def test_pooled_interval_of_two_groups_is_the_classical_two_sample_t_interval():
    a, b = np.array([0.81, 0.83, 0.80]), np.array([0.78, 0.79, 0.775, 0.80])
    sd, dof = stats.pooled_sd([a, b])
    assert dof == 5
    diff, lo, hi = stats.pooled_diff_ci(a, b, sd, dof)
    ref = sps.ttest_ind(a, b, equal_var=True).confidence_interval(0.95)
    assert diff == pytest.approx(a.mean() - b.mean())
    assert (lo, hi) == pytest.approx((ref.low, ref.high), rel=1e-10)


def test_pooled_sd_uses_every_group_and_ignores_singletons():
    groups = [[1.0, 3.0], [10.0, 12.0, 14.0], [5.0]]
    sd, dof = stats.pooled_sd(groups)
    assert dof == 1 + 2
    assert sd == pytest.approx(np.sqrt((2.0 + 8.0) / 3))
    assert stats.pooled_sd([[1.0], [2.0]]) == (pytest.approx(float("nan"), nan_ok=True), 0)
    assert stats.pooled_diff_ci([1.0], [2.0], float("nan"), 0)[1:] == (float("-inf"), float("inf"))


def test_pooled_interval_narrows_with_more_pooled_cells():
    rng = np.random.default_rng(0)
    cells = [rng.normal(0.8, 0.01, 2) for _ in range(30)]
    sd, dof = stats.pooled_sd(cells)
    assert 0.005 < sd < 0.015 and dof == 30
    _, lo, hi = stats.pooled_diff_ci(cells[0], cells[1], sd, dof)
    _, lo1, hi1 = stats.pooled_diff_ci(cells[0], cells[1], sd, 1)
    assert hi - lo < (hi1 - lo1) / 4  # t with 1 dof is 12.7, with 30 dof 2.04
