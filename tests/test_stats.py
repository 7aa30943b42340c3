import numpy as np
import pytest
from scipy import stats as sps

from datadiet_core import stats


def _welch_reference(a, b, level):
    """Welch's interval written out in float64, independently of the library."""
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    nu = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = sps.t.ppf(0.5 + level / 2, nu) * np.sqrt(va + vb)
    d = np.mean(a) - np.mean(b)
    return d - half, d + half, nu


@pytest.mark.parametrize("level", [0.80, 0.95, 0.99])
def test_welch_interval_matches_scipy_and_a_float64_reference(level):
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.80, 0.02, 3), rng.normal(0.78, 0.005, 5)
    diff, lo, hi, nu = stats.welch_diff_ci(a, b, level)
    ref = sps.ttest_ind(a, b, equal_var=False).confidence_interval(level)
    assert (lo, hi) == pytest.approx((ref.low, ref.high), rel=1e-10)
    assert (lo, hi, nu) == pytest.approx(_welch_reference(a, b, level), rel=1e-10)
    assert lo < diff < hi and diff == pytest.approx(a.mean() - b.mean())


def test_welch_interval_uses_only_the_two_cells_spread():
    """A stable pair keeps a narrow interval whatever other cells do (a pooled SD would not)."""
    a, b = np.array([0.695, 0.697, 0.696]), np.array([0.684, 0.686, 0.685])
    _, lo, hi, _ = stats.welch_diff_ci(a, b)
    assert 0 < lo < hi < 0.02
    noisy = np.array([0.10, 0.35, 0.60])
    _, lo2, hi2, _ = stats.welch_diff_ci(noisy, b)
    assert lo2 < 0 < hi2  # a cell whose seeds disagree supports no verdict


def test_welch_interval_edge_cases():
    assert stats.welch_diff_ci([1.0], [2.0, 3.0])[1:] == (float("-inf"), float("inf"), 0.0)
    assert stats.welch_diff_ci([0.5, 0.5], [0.4, 0.4]) == pytest.approx((0.1, 0.1, 0.1, float("inf")))


def test_direction_is_three_valued_and_never_contradicts_its_interval():
    assert stats.direction(0.002, 0.02) == stats.ABOVE
    assert stats.direction(-0.03, -0.001) == stats.BELOW
    assert stats.direction(-0.01, 0.02) == stats.NO_DIFFERENCE
    assert stats.direction(float("-inf"), float("inf")) == stats.NO_DIFFERENCE


def test_compare_reads_each_fraction_from_its_own_cells():
    import pandas as pd
    rows = [{"m": m, "prune": f, "test_acc": v} for m, f, vals in
            (("a", 0.3, [0.80, 0.81, 0.82]), ("b", 0.3, [0.70, 0.71, 0.72]),
             ("a", 0.5, [0.60, 0.61, 0.62]), ("b", 0.5, [0.60, 0.62, 0.61]),
             ("a", 0.7, [0.50]), ("c", 0.7, [0.1, 0.2])) for v in vals]
    c = stats.compare(pd.DataFrame(rows), {"m": "a"}, {"m": "b"})
    assert list(c.prune) == [0.3, 0.5]  # only where both ran
    assert list(c.direction) == [stats.ABOVE, stats.NO_DIFFERENCE]
    assert list(c.n_a) == [3, 3] and c["diff"].iloc[0] == pytest.approx(0.1)


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
