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


@pytest.mark.parametrize("level", [0.80, 0.99])
def test_pooled_interval_level_matches_the_two_sample_t_interval_at_that_level(level):
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.80, 0.02, 5), rng.normal(0.78, 0.02, 8)
    diff, lo, hi = stats.pooled_diff_ci(a, b, *stats.pooled_sd([a, b]), level=level)
    ref = sps.ttest_ind(a, b, equal_var=True).confidence_interval(level)
    assert (lo, hi) == pytest.approx((ref.low, ref.high), rel=1e-10)
    assert lo < diff < hi


def test_ranks_are_zero_based_average_ranks_for_ties():
    np.testing.assert_array_equal(stats.ranks(np.array([10.0, 20.0, 20.0, 5.0, 20.0])),
                                  [1.0, 3.0, 3.0, 0.0, 3.0])
    x = np.random.default_rng(1).integers(0, 5, 200).astype(float)
    r = stats.ranks(x)
    np.testing.assert_allclose(r, sps.rankdata(x, method="average") - 1, atol=0)
    assert r.sum() == pytest.approx(200 * 199 / 2)  # average ranks keep the sum of 0..n-1


def _correlated(n, r, seed):
    """n pairs of standard normals with Pearson correlation r."""
    rng = np.random.default_rng(seed)
    x, e = rng.standard_normal(n), rng.standard_normal(n)
    return x, r * x + np.sqrt(1 - r * r) * e


@pytest.mark.parametrize("kind", ["floats", "ties"])
def test_spearman_matches_scipy(kind):
    rng = np.random.default_rng(2)
    if kind == "floats":
        a, b = _correlated(300, 0.4, 2)
    else:  # heavy ties in both variables
        a, b = rng.integers(0, 4, 300), rng.integers(0, 6, 300)
        b = b + a  # correlated, still integer-valued with ties
    got = stats.spearman(a, b)
    assert got == pytest.approx(sps.spearmanr(a, b).statistic, abs=1e-12)
    assert -1 < got < 1 and abs(got) > 0.1


def test_spearman_is_plus_minus_one_for_monotone_pairs():
    x = np.linspace(-3, 3, 50)
    assert stats.spearman(x, np.exp(x)) == pytest.approx(1.0, abs=1e-12)
    assert stats.spearman(x, -x ** 3) == pytest.approx(-1.0, abs=1e-12)
    assert stats.spearman(x, np.exp(x)) == pytest.approx(sps.spearmanr(x, np.exp(x)).statistic, abs=1e-12)


def test_spearman_ci_point_estimate_interval_and_reproducibility():
    a, b = _correlated(400, 0.5, 4)
    rho, lo, hi = stats.spearman_ci(a, b, seed=7)
    assert rho == pytest.approx(sps.spearmanr(a, b).statistic, abs=1e-12)
    assert lo <= rho <= hi and lo < hi
    assert stats.spearman_ci(a, b, seed=7) == (rho, lo, hi)
    assert stats.spearman_ci(a, b, seed=8)[1:] != (lo, hi)
    _, lo50, hi50 = stats.spearman_ci(a, b, level=0.5, seed=7)
    assert lo < lo50 < rho < hi50 < hi  # same resamples, inner percentiles


def test_spearman_ci_narrows_as_n_grows():
    _, lo_s, hi_s = stats.spearman_ci(*_correlated(100, 0.5, 5))
    _, lo_l, hi_l = stats.spearman_ci(*_correlated(2000, 0.5, 5))
    w_small, w_large = hi_s - lo_s, hi_l - lo_l
    assert 0 < w_large < w_small / 2.5  # ~sqrt(20) = 4.5 times narrower in expectation


def test_spearman_ci_is_tight_for_strongly_correlated_data():
    r = 2 * np.sin(np.pi * 0.9 / 6)  # Pearson r of a bivariate normal whose Spearman rho is 0.9
    rho, lo, hi = stats.spearman_ci(*_correlated(1000, r, 6))
    assert rho == pytest.approx(0.9, abs=0.02)
    assert rho - 0.05 <= lo <= rho <= hi <= rho + 0.05
