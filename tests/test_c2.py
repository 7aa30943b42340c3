"""Claim C2 (module c2): static pruning by every score of the bank."""
import numpy as np
import pandas as pd
import pytest

from datadiet_core import MissingResults, bank, c2, profiles, report, runs, store, sweep
from small import digits_profile


def test_static_pruning_runs_keep_the_right_subset_for_a_fixed_number_of_steps(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    sweep.sweep("setup", P, s.root, progress=None)
    sc = bank.score_bank(P, s)
    keep = c2.pruned_subset("el2n_early", sc, 1500, 0.7, seed=0)
    assert len(keep) == 450 and sc["el2n_early"][keep].min() >= np.sort(sc["el2n_early"])[-450]
    rec = c2.pruned_run(P, s, "el2n_early", sc, 0.7, eval_index=0)
    full = bank.scoring_runs(P, s)[0]
    assert rec.metrics["steps"] == full.metrics["steps"] and rec.metrics["n_train"] == 450
    assert rec.config["seed"] == runs.EVAL_SEED_OFFSET
    r1 = c2.pruned_subset("random", sc, 1500, 0.5, seed=1)
    assert len(r1) == 750 and not np.array_equal(r1, c2.pruned_subset("random", sc, 1500, 0.5, seed=2))
    with pytest.raises(Exception, match="parameter 'prune'"):
        c2.pruned_subset("random", sc, 1500, 1.0, seed=0)
    with pytest.raises(Exception, match="parameter 'score'"):
        c2.pruned_subset("loss", sc, 1500, 0.5, seed=0)


def test_c2_grid_covers_the_protocol():
    P = profiles.resolve_profile("cpu")
    grid = c2.grid(P)
    main = [g for g in grid if g.rule == "keep_highest" and g.epochs is None]
    assert {(g.score, g.prune) for g in main} == {(s, f) for s in bank.STATIC_SCORES for f in (0.3, 0.5, 0.7)}
    assert len(main) == 7 * 3 * P.eval_seeds
    assert {g.rule for g in grid} == set(c2.RULES)
    regime = [g for g in grid if g.epochs is not None]
    assert {g.epochs for g in regime} == set(P.regime_epochs) - {P.epochs}
    assert all(g.prune == c2.REGIME_PRUNE for g in regime)
    assert len(set(grid)) == len(grid)  # no run twice
    assert {g.eval_index for g in grid} == set(range(P.eval_seeds))
    # 4 scoring runs of 8 epochs; 42 + 8 evaluation runs of 8; 10 of 2 and 10 of 4.
    assert c2.training_epochs(P) == 4 * 8 + 50 * 8 + 10 * 2 + 10 * 4
    assert c2.regime_share(P) == pytest.approx(60 / 492)


def _synthetic_runs(effects: dict, epochs: int = 8, noise: float = 0.002) -> pd.DataFrame:
    """Two seeds per cell at exactly the cell's effect +- ``noise``: known differences, known spread."""
    rows = [{"score": "full", "rule": "full", "prune": 0.0, "epochs": epochs, "seed": s, "test_acc": 0.85,
             "n_train": 100, "wall_seconds": 1.0} for s in range(2)]
    for (score, rule, prune, ep), delta in effects.items():
        for s in range(2):
            rows.append({"score": score, "rule": rule, "prune": prune, "epochs": ep, "seed": 1000 + s,
                         "test_acc": 0.80 + delta + noise * (-1) ** s, "n_train": 50,
                         "wall_seconds": 1.0})
    return pd.DataFrame(rows)


def test_c2_verdicts_follow_the_rules_written_in_the_docstring():
    P = profiles.resolve_profile("cpu")
    eff = {}
    for f in (0.3, 0.5, 0.7):
        eff.update({("random", "keep_highest", f, 8): 0.0, ("input_norm", "keep_highest", f, 8): -0.05,
                    ("grand_init", "keep_highest", f, 8): -0.05, ("grand_early", "keep_highest", f, 8): 0.0,
                    ("el2n_early", "keep_highest", f, 8): 0.05 if f == 0.3 else 0.0,
                    ("forgetting", "keep_highest", f, 8): -0.1 if f == 0.7 else 0.0,
                    ("grand_init_restore_bug", "keep_highest", f, 8): -0.09 if f == 0.7 else 0.0})
    eff.update({("el2n_early", "keep_lowest", 0.5, 8): 0.03, ("el2n_early", "stratified", 0.5, 8): -0.0,
                ("grand_init", "keep_lowest", 0.5, 8): 0.0, ("grand_init", "stratified", 0.5, 8): 0.0})
    for ep, d in ((4, -0.1), (16, 0.04)):
        eff.update({(s, "keep_highest", 0.5, ep): (d if s == "el2n_early" else 0.0) for s in c2.REGIME_SCORES})
    runs = _synthetic_runs(eff)
    diffs = c2.differences(runs)
    s = c2.summary(P, runs, diffs)
    v = s["verdict"]
    assert v["el2n_early_beats_random"] and not v["el2n_early_below_random"]
    assert v["grand_init_below_random"] and not v["grand_init_beats_random"]
    assert not v["grand_early_beats_random"] and not v["grand_early_below_random"]
    assert v["forgetting_below_random"] and not v["forgetting_beats_random"]
    assert v["input_norm_like_grand_init"]
    assert v["restore_bug_like_late_score"]
    assert v["hard_beats_random_at_some_budget"]
    assert v["keep_easiest_beats_keep_hardest"] and not v["stratified_beats_keep_hardest"]
    assert set(s["acc_mean"]) == set(bank.STATIC_SCORES) | {"full"}
    assert set(s["acc_mean"]["random"]) == {"0.3", "0.5", "0.7"}
    assert s["regime"]["el2n_early"]["4"] == pytest.approx(-0.1, abs=0.01)
    assert set(s["regime"]["el2n_early"]) == {"4", "8", "16"}
    text = report.c2_verdict_text(s)
    assert "EL2N@10% beats random" in text and "GraNd@init is below random" in text and "at 16 epochs" in text
    # No effect anywhere: nothing beats or loses, and the restore bug is not "like a late score".
    flat = _synthetic_runs({k: 0.0 for k in eff})
    v0 = c2.summary(P, flat, c2.differences(flat))["verdict"]
    assert not any(v0[k] for k in v0 if k != "input_norm_like_grand_init") and v0["input_norm_like_grand_init"]


def test_c2_starvation_text_counts_classes():
    kept = pd.DataFrame({"selection": ["a"] * 3 + ["b"] * 3, "class": ["x", "y", "z"] * 2,
                         "count": [100, 100, 100, 290, 10, 0]})
    text = report.c2_starvation_text(kept)
    assert "b keeps less than half" in text and "y (10)" in text and "z (0)" in text and "a keeps" not in text


def test_c2_sweep_end_to_end_and_resumable(results_dir):
    P = digits_profile(prune_fractions=(0.5,), eval_seeds=2, regime_epochs=(1, 2))
    s = store.Store.for_profile("smoke")
    with pytest.raises(MissingResults) as e:
        c2.load(P, s)  # loaders never train: one line naming the sweep that computes the runs
    assert str(e.value).startswith("8 of 8 runs of setup are not in the store (first: scoring run seed=0)")
    assert "python -m datadiet_core sweep setup --profile smoke --set '{" in str(e.value) and "\n" not in str(e.value)
    sweep.sweep("setup", P, s.root, progress=None)
    with pytest.raises(MissingResults, match=r"^\d+ of \d+ runs of c2 are not in the store \(first: keep_highest:random"):
        c2.load(P, s)
    report = sweep.sweep("c2", P, s.root, progress=None)
    assert report.from_store == 8 and report.done == report.total == 8 + len(c2.grid(P))
    runs = c2.load(P, s)
    assert len(runs) == len(c2.grid(P)) + P.scoring_seeds
    assert (runs[runs.rule == "keep_highest"].n_train.isin([750])).all()
    assert set(runs.epochs) == {1, 2}
    n_entries = len(s.entries("train"))
    again = c2.load(P, s)
    assert len(s.entries("train")) == n_entries  # nothing recomputed
    assert again.test_acc.tolist() == runs.test_acc.tolist()
    summary = c2.summary(P, runs, c2.differences(runs))
    assert all(isinstance(b, bool) for b in summary["verdict"].values())
    kept = c2.kept_per_class(P, bank.score_bank(P, s))
    assert (kept.groupby("selection")["count"].sum() == 750).all()
    assert c2.compute_seconds(P, s, runs) > 0
