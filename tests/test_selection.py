import numpy as np
import pytest

from datadiet_core import ParameterError, selection


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
    assert selection.class_counts(np.array([0, 3, 4]), y, 4).tolist() == [1, 0, 2, 0]


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
