import numpy as np
import pytest

from datadiet_core import ParameterError, data, selection


def test_keep_highest_and_lowest_split_the_data():
    score = np.array([0.3, 0.9, 0.1, 0.5, np.inf, 0.2])
    hi = selection.keep_highest(score, 0.5)
    lo = selection.keep_lowest(score, 0.5)
    assert hi.tolist() == [1, 3, 4]  # inf (never learned) counts as the highest
    assert lo.tolist() == [0, 2, 5]
    assert sorted(hi.tolist() + lo.tolist()) == list(range(6))


def test_ties_are_broken_by_index_deterministically():
    score = np.zeros(10)
    assert selection.keep_highest(score, 0.3).tolist() == [7, 8, 9]
    assert selection.keep_lowest(score, 0.3).tolist() == [0, 1, 2]


def test_random_and_offset():
    r = selection.keep_random(1000, 0.25, seed=3)
    assert len(r) == 250 and len(set(r.tolist())) == 250 and np.all(np.diff(r) > 0)
    assert not np.array_equal(r, selection.keep_random(1000, 0.25, seed=4))
    score = np.arange(100.0)[::-1]  # example i has score 99 - i
    kept = selection.keep_offset(score, offset=0.2, keep=0.5)
    assert sorted((99 - kept).tolist()) == list(range(20, 70))


def test_stratified_covers_every_score_range_and_drops_the_hardest():
    rng = np.random.default_rng(0)
    score = rng.exponential(size=10000)  # most examples easy, a long tail of hard ones
    kept = selection.keep_stratified(score, keep=0.1, beta=0.1, bins=20)
    assert len(kept) == 1000 and len(np.unique(kept)) == 1000
    hardest = np.argsort(score)[-1000:]
    assert not np.isin(kept, hardest).any()
    # Coverage: the kept scores spread over the range far more evenly than keep_lowest's.
    q = np.quantile(score, 0.9)
    assert score[kept].max() > 0.8 * q and score[selection.keep_lowest(score, 0.1)].max() < 0.2 * q


def test_class_counts():
    y = np.array([0, 0, 1, 2, 2, 2])
    assert data.class_counts(y[np.array([0, 3, 4])], 4).tolist() == [1, 0, 2, 0]


@pytest.mark.parametrize("call,message", [
    (lambda: selection.keep_highest(np.ones(5), 0.0), "parameter 'keep' must be a fraction in (0, 1]"),
    (lambda: selection.keep_highest(np.ones(5), 1.5), "parameter 'keep' must be a fraction in (0, 1]"),
    (lambda: selection.keep_lowest(np.array([1.0, np.nan]), 0.5), "parameter 'score' must be a 1-D array"),
    (lambda: selection.keep_offset(np.ones(10), 0.6, 0.5), "parameter 'offset' plus 'keep'"),
    (lambda: selection.keep_stratified(np.ones(10), 0.95, beta=0.1), "parameter 'keep' must leave room"),
    (lambda: selection.keep_stratified(np.ones(10), 0.5, bins=0), "parameter 'bins'"),
])
def test_bad_selection_parameters(call, message):
    with pytest.raises(ParameterError) as e:
        call()
    assert str(e.value).startswith(message)


# --------------------------------------------------------------------------- dynamic selection

def test_ema_and_ucb_variance_follow_raju_eqs_2_and_3_in_float64():
    s0, s1, s2 = np.array([1.0, 2.0, 4.0]), np.array([3.0, 2.0, 0.0]), np.array([0.5, 1.0, 8.0])
    a = 0.8
    e0 = selection.ema(s0, None, a)
    assert np.array_equal(e0, s0)  # the first checkpoint starts the average
    e1 = selection.ema(s1, e0, a)
    assert np.allclose(e1, a * s1 + (1 - a) * s0, rtol=0, atol=1e-15)
    v0 = selection.ucb_variance(s0, None, None, a)
    assert np.array_equal(v0, np.zeros(3))  # "the starting variance is zero"
    v1 = selection.ucb_variance(s1, e0, v0, a)
    assert np.allclose(v1, a * (s1 - e0) ** 2, atol=1e-15)
    v2 = selection.ucb_variance(s2, e1, v1, a)
    assert np.allclose(v2, (1 - a) * v1 + a * (s2 - e1) ** 2, atol=1e-15)


def test_ucb_prefers_a_volatile_sample_over_a_steady_one_with_the_same_mean():
    ucb = selection.UCB(n=2, keep=0.5, seed=0, alpha=0.8, c=1.0)
    ucb.select(np.array([1.0, 1.0]))
    ucb.select(np.array([1.0, 3.0]))
    ucb.select(np.array([1.0, -1.0]))  # sample 1 swings; its EMA ends below sample 0's
    assert ucb.ema[1] < ucb.ema[0]
    assert list(ucb.select(np.array([1.0, 1.0]))) == [1]
    plain = selection.UncertaintyEMA(n=2, keep=0.5, seed=0, alpha=0.8)
    for s in ([1.0, 1.0], [1.0, 3.0], [1.0, -1.0]):
        plain.select(np.array(s))
    assert list(plain.select(np.array([1.0, 1.0]))) == [0]


def test_epsilon_greedy_takes_the_top_and_explores_the_rest():
    rng = np.random.default_rng(0)
    score = np.arange(100.0)
    rows = selection.epsilon_greedy(score, k=20, epsilon=0.25, rng=rng)
    assert len(rows) == 20 and len(set(rows)) == 20 and np.all(np.diff(rows) > 0)
    assert set(range(85, 100)) <= set(rows)          # (1 - eps) k = 15 best
    assert len([r for r in rows if r < 85]) == 5      # eps k = 5 from the rest
    assert list(selection.epsilon_greedy(score, 20, 0.0, rng)) == list(range(80, 100))
    with pytest.raises(Exception, match="parameter 'epsilon'"):
        selection.epsilon_greedy(score, 20, 1.5, rng)


def test_random_dynamic_redraws_and_static_does_not():
    rd = selection.RandomDynamic(1000, keep=0.3, seed=1)
    a, b = rd.select(None), rd.select(None)
    assert len(a) == len(b) == 300 and not np.array_equal(a, b)
    st = selection.StaticSubset(1000, 0.3, 1, selection.keep_random(1000, 0.3, 1))
    assert np.array_equal(st.select(None), st.select(None))
    eg = selection.StaticEpsilonGreedy(1000, 0.3, 1, np.arange(1000.0), epsilon=0.1)
    x, y = eg.select(None), eg.select(None)
    assert set(range(1000 - 270, 1000)) <= set(x) & set(y) and not np.array_equal(x, y)


@pytest.mark.parametrize("name", selection.VARIANT_SELECTORS)
def test_random_first_variant_draws_its_first_subset_at_random_then_follows_the_loss(name):
    """C3's diagnosis variant: the first selection ignores the losses (a fresh net's losses keep a
    few classes); every later one is the selector's own top-k of the loss EMA."""
    n, keep = 1000, 0.3
    losses = np.arange(n, dtype=float)  # the highest losses are the last rows
    sel = selection.make_selector(name, n, keep, seed=3, variant="random_first")
    first = sel.select(losses)
    assert len(first) == 300 and len(np.unique(first)) == 300
    assert (first < 700).sum() > 150  # at random: about 70% of it below the top 300, none for top-k
    later = sel.select(losses)
    plain = selection.make_selector(name, n, keep, seed=3)
    plain.select(losses)
    if name == "epsilon_greedy":  # the same EMA, so the same greedy rows; the random tenth is drawn anew
        greedy = set(range(n - 270, n))
        assert greedy <= set(later) and greedy <= set(plain.select(losses)) and len(later) == 300
    else:
        assert np.array_equal(later, plain.select(losses))  # the same EMA, so the same top-k from then on


@pytest.mark.parametrize("name", selection.VARIANT_SELECTORS)
def test_per_class_variant_keeps_every_class_in_proportion(name):
    """C3's diagnosis variant: the selector's own score, kept per class (ε-greedy: its greedy
    share per class, the rest uniformly), so losses that favour a few classes cannot drop the others."""
    n, keep = 1000, 0.3
    labels = np.repeat(np.arange(10), 100)
    losses = np.where(labels < 3, 10.0, 1.0) + np.linspace(0, 1, n)  # a whole-set top-k keeps classes 0-2 only
    plain = selection.make_selector(name, n, keep, seed=3).select(losses)
    assert (labels[plain] < 3).sum() >= (270 if name == "epsilon_greedy" else 300)  # ε-greedy: its random tenth aside
    rows = selection.make_selector(name, n, keep, seed=3, variant="per_class", labels=labels).select(losses)
    assert len(rows) == 300 and len(np.unique(rows)) == 300
    counts = np.bincount(labels[rows], minlength=10)
    if name == "epsilon_greedy":
        assert counts.min() >= 27  # 27 greedy rows per class (0.9 x 300 / 10), and the random tenth on top
        for c in range(10):  # the greedy rows of each class are its 27 highest-scoring
            top = np.flatnonzero(labels == c)[-27:]
            assert set(top) <= set(rows)
    else:
        assert counts.tolist() == [30] * 10 and set(rows) == {r for c in range(10) for r in np.flatnonzero(labels == c)[-30:]}


def test_epsilon_greedy_as_specified_draws_as_the_stored_runs_did():
    """The selector as Raju et al. specify it is :func:`selection.epsilon_greedy` on the EMA, with
    the same generator: the per-class variant left its draws unchanged."""
    n, keep = 1000, 0.3
    losses = np.random.default_rng(0).exponential(size=n)
    sel = selection.make_selector("epsilon_greedy", n, keep, seed=5)
    rng = np.random.default_rng(5)
    assert np.array_equal(sel.select(losses), selection.epsilon_greedy(losses, 300, 0.1, rng))


def test_infobatch_keeps_the_expected_gradient_and_ends_on_full_data():
    n, r = 20000, 0.5
    ib = selection.InfoBatch(n, r=r, delta=0.875, epochs=8, seed=0)
    assert len(ib.select(0)) == n  # nothing seen yet: everything kept
    loss = np.random.default_rng(1).exponential(size=n)
    ib.record(np.arange(n), loss)
    rows = ib.select(1)
    low = loss < loss.mean()
    dropped = np.setdiff1d(np.arange(n), rows)
    assert not (~low[dropped]).any()                          # only below-mean samples are dropped
    assert abs(len(dropped) / low.sum() - r) < 0.02           # each with probability r
    assert np.allclose(ib.weight[rows][low[rows]], 1 / (1 - r)) and np.all(ib.weight[rows][~low[rows]] == 1)
    # Unbiased: the weighted sum of kept losses estimates the full sum.
    assert abs((ib.weight[rows] * loss[rows]).sum() / loss.sum() - 1) < 0.02
    assert len(ib.select(7)) == n and np.all(ib.weight == 1)  # last (1 - delta) of epochs: full data


def test_selective_backprop_keeps_the_requested_fraction_and_prefers_high_loss():
    sb = selection.SelectiveBackprop(keep=0.3, seed=0, random=False, history=4096)
    rng = np.random.default_rng(0)
    kept = hi = n_hi = 0
    for _ in range(200):
        losses = rng.exponential(size=128)
        m = sb.choose(losses, 128)
        kept += m.sum()
        top = losses > np.quantile(losses, 0.8)
        hi += m[top].sum()
        n_hi += top.sum()
    assert abs(kept / (200 * 128) - 0.3) < 0.03  # E[U^beta] = 1 / (1 + beta) = keep
    assert hi / n_hi > 0.6                          # high-loss samples are kept far more often
    rb = selection.SelectiveBackprop(keep=0.3, seed=0, random=True)
    assert abs(np.mean([rb.choose(None, 128).mean() for _ in range(200)]) - 0.3) < 0.02
