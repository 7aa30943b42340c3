"""Claim C2 (module c2): static pruning by every score of the bank."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from datadiet_core import (MissingResults, bank, c2, c2_picks, headlines, profiles, regimes, report, report_c2, runs, selection, stats,
                          store, summaries, sweep)
from datadiet_core.book import cost_table
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
    # Equal epochs (Kirsch's PyTorch reproduction): the same passes over the kept 450, so 3/10 the steps.
    short = c2.pruned_run(P, s, "el2n_early", sc, 0.7, eval_index=0, budget="epochs")
    assert short.metrics["steps"] == 2 * (450 // 100) and short.config["budget"] == "epochs" and short.path != rec.path


def test_c2_runs_both_budget_conventions_where_the_profile_lists_them(results_dir):
    P = digits_profile(prune_fractions=(0.5,), eval_seeds=3, side_seeds=2, regime_epochs=(2,),
                       c2_budgets=("iterations", "epochs"))
    s = store.Store.for_profile("smoke")
    extra = [g for g in c2.grid(P) if g.budget == "epochs"]
    assert sorted((g.score, g.eval_index) for g in extra) == sorted((b, i) for b in c2.BUDGET_SCORES for i in range(2))
    assert len(c2.grid(P)) == len(c2.grid(P.replace(c2_budgets=("iterations",)))) + len(extra)
    same = dataclasses.replace(extra[0], budget="iterations")  # the kept half costs half the steps
    assert sweep.task_images(P, sweep.Task("c2", 2, extra[0]))["train"] == 0.5 * sweep.task_images(P, sweep.Task("c2", 2, same))["train"]
    sweep.sweep("c2", P, s.root, progress=None)
    main, short = c2.load(P, s), c2.load(P, s, "epochs")
    assert len(main[main.rule != "full"]) == len(c2.grid(P)) - len(extra) and len(short[short.rule != "full"]) == len(extra)
    conv = c2.budget_conventions(P, s, main)
    assert conv["budgets"] == ["iterations", "epochs"]
    assert set(conv["diff_to_random"]["epochs"]) == set(conv["diff_to_random"]["iterations"]) == set(c2.BUDGET_SCORES[1:])
    cell = conv["diff_to_random"]["epochs"]["el2n_early"]["0.5"]
    mine = short[(short.score == "el2n_early")].test_acc.mean() - short[short.score == "random"].test_acc.mean()
    assert cell[0] == pytest.approx(mine)
    assert np.isnan(cell[1]) and np.isnan(cell[2]) and cell[3] == stats.FEW_SEEDS  # 2 seeds a cell: no interval
    table = report_c2.c2_published_table(conv, P.model)
    assert ("EL2N early", "ours (fastnet, equal epochs)") in table.index and ("EL2N early", "ours (fastnet, equal iterations)") in table.index
    assert table.loc[("EL2N early", "ours (fastnet, equal epochs)"), "50% pruned"].endswith("(fewer than 3 seeds: no interval)")
    # the headline convention's own differences add the published scores its table leaves out
    early = {"grand_early": {"0.5": [0.01, float("nan"), float("nan"), stats.FEW_SEEDS]}, "el2n_early": {"0.5": [0.09, 0.0, 0.1, "above"]}}
    more = report_c2.c2_published_table(conv, P.model, early)
    assert more.loc[("GraNd early", "ours (fastnet, equal iterations)"), "50% pruned"] == "+1.0 (fewer than 3 seeds: no interval)"
    assert (more.loc[("EL2N early", "ours (fastnet, equal iterations)")] == table.loc[("EL2N early", "ours (fastnet, equal iterations)")]).all()
    pub = table.loc[("input norm ‖x‖₂", "Kirsch's PyTorch reproduction (hlb-CIFAR10 net, about 12.6 epochs, equal epochs)"), "10% pruned"]
    assert pub == "0.0"  # 93.67 - 93.72 = -0.05 points: no sign on a published zero
    assert report_c2.c2_budget_note("smoke", conv).startswith("The smoke profile ran equal iterations (its headline) and equal epochs")
    assert "runs equal iterations only" in report_c2.c2_budget_note("cpu", {"budgets": ["iterations"], "diff_to_random": {}})


def test_c2_grid_covers_the_protocol():
    P = profiles.resolve_profile("cpu")
    grid = c2.grid(P)
    main = [g for g in grid if g.rule == "keep_highest" and g.epochs is None and g.score in selection.STATIC_SCORES]
    assert {(g.score, g.prune) for g in main} == {(s, f) for s in selection.STATIC_SCORES for f in (0.3, 0.5, 0.7)}
    # the headline cells get eval_seeds (3), every other cell side_seeds (2)
    assert P.eval_seeds == 3 and profiles.side_seeds(P) == 2
    assert len(main) == 4 * 3 * 3 + 3 * 3 * 2
    assert all(g.eval_index < 2 for g in grid if g.score not in c2.HEADLINE_SCORES or g.rule != "keep_highest"
               or g.epochs is not None)
    assert {g.rule for g in grid} == set(c2.RULES)
    per_class = [g for g in grid if g.rule == "per_class"]
    assert {g.score for g in per_class} == set(P.c2_per_class) and all(g.prune == 0.5 for g in per_class)
    regime = [g for g in grid if g.epochs is not None]
    assert {g.epochs for g in regime} == set(P.regime_epochs) - {P.epochs}
    assert all(g.prune == c2.REGIME_PRUNE for g in regime)
    assert len(set(grid)) == len(grid)  # no run twice
    assert {g.eval_index for g in grid} == set(range(P.eval_seeds))
    # The pre-drop scores at 50% pruned, side seeds.
    predrop = [g for g in grid if g.score in selection.PREDROP_SCORES]
    assert P.predrop == 0.25 and {(g.score, g.prune, g.rule, g.epochs) for g in predrop} == {
        (s, 0.5, "keep_highest", None) for s in selection.PREDROP_SCORES} and len(predrop) == 4
    assert not any(g.score in selection.PREDROP_SCORES for g in c2.grid(P.replace(predrop=None)))
    # 4 scoring runs of 8 epochs; 54 + per-class + 8 other-rule + 4 pre-drop evaluation runs of 8;
    # 10 of 2 and 10 of 4.
    n8 = 54 + 2 * len(P.c2_per_class) + 8 + 4
    assert len([g for g in grid if g.epochs is None]) == n8
    assert sorted(g.epochs for g in regime) == [2] * 10 + [4] * 10
    assert sum(c2.run_epochs(P, g) for g in grid) == n8 * 8 + 10 * 2 + 10 * 4  # equal iterations: every run whole


def _synthetic_runs(effects: dict, epochs: int = 8, noise: float = 0.002, seeds: int = 3) -> pd.DataFrame:
    """``seeds`` seeds per cell at exactly the cell's effect +- ``noise``: known differences, known spread."""
    rows = [{"score": "full", "rule": "full", "prune": 0.0, "epochs": epochs, "seed": s, "test_acc": 0.85,
             "n_train": 100, "wall_seconds": 1.0} for s in range(2)]
    for (score, rule, prune, ep), delta in effects.items():
        for s in range(seeds):
            rows.append({"score": score, "rule": rule, "prune": prune, "epochs": ep, "seed": 1000 + s,
                         "test_acc": 0.80 + delta + noise * (s - 1), "n_train": 50, "wall_seconds": 1.0})
    return pd.DataFrame(rows)


def _effects(el2n_30: float = 0.05, grand_init: float = -0.05, grand_early: float = 0.02) -> dict:
    eff = {}
    for f in (0.3, 0.5, 0.7):
        eff.update({("random", "keep_highest", f, 8): 0.0, ("input_norm", "keep_highest", f, 8): -0.05,
                    ("grand_init", "keep_highest", f, 8): grand_init, ("grand_early", "keep_highest", f, 8): grand_early,
                    ("el2n_early", "keep_highest", f, 8): el2n_30 if f == 0.3 else 0.0,
                    ("forgetting", "keep_highest", f, 8): -0.1 if f == 0.7 else 0.0,
                    ("grand_init_restore_bug", "keep_highest", f, 8): -0.09 if f == 0.7 else 0.0})
    eff.update({("el2n_early", "keep_lowest", 0.5, 8): 0.03, ("el2n_early", "stratified", 0.5, 8): -0.0,
                ("grand_init", "keep_lowest", 0.5, 8): 0.0, ("grand_init", "stratified", 0.5, 8): 0.0,
                ("grand_init", "per_class", 0.5, 8): 0.01, ("el2n_early", "per_class", 0.5, 8): 0.0})
    for ep, d in ((4, -0.1), (16, 0.04)):
        eff.update({(s, "keep_highest", 0.5, ep): (d if s == "el2n_early" else 0.0) for s in c2.REGIME_SCORES})
    return eff


def test_c2_differences_of_a_store_holding_only_random_cells_have_no_rows():
    only_random = _synthetic_runs({("random", "keep_highest", 0.5, 8): 0.0})
    d = c2.differences(only_random)
    assert d.empty and list(d.columns) == ["score", "rule", "prune", "epochs", "diff", "lo", "hi", "direction",
                                           "n_a", "n_b", "dof"]
    assert c2.differences(only_random[only_random.rule == "full"]).empty  # nothing pruned stored yet
    one = c2.differences(_synthetic_runs({("random", "keep_highest", 0.5, 8): 0.0, ("el2n_early", "keep_highest", 0.5, 8): 0.01}))
    assert len(one) == 1 and one.loc[0, "diff"] == pytest.approx(0.01) and one.loc[0, "direction"] == "above"
    assert all(one[c].dtype.kind == "f" for c in ("diff", "lo", "hi"))  # a chart serialises NaN as null, not NaN


def test_c2_comparisons_are_three_valued_per_fraction():
    P = profiles.resolve_profile("cpu")
    runs = _synthetic_runs(_effects())
    s = c2.summary(P, runs, c2.differences(runs))
    d = s["diff_to_random"]
    assert [d["el2n_early"][f][3] for f in ("0.3", "0.5", "0.7")] == ["above", "no detectable difference",
                                                                       "no detectable difference"]
    assert {c[3] for c in d["grand_init"].values()} == {"below"}
    assert d["forgetting"]["0.7"][3] == "below" and d["forgetting"]["0.3"][3] == "no detectable difference"
    for by_f in d.values():  # a reading never contradicts its interval
        for diff, lo, hi, direction in by_f.values():
            assert lo <= diff <= hi and direction == ("above" if lo > 0 else "below" if hi < 0 else
                                                      "no detectable difference")
    assert s["checks"]["input_norm_minus_grand_init"]["0.5"][3] == "no detectable difference"
    assert s["checks"]["restore_bug_minus_grand_init"]["0.3"][3] == "above"
    assert s["per_class_to_random"]["grand_init"]["0.5"][3] == "above"
    assert s["per_class_minus_whole_set"]["grand_init"]["0.5"][0] == pytest.approx(0.06)
    assert s["regime"]["el2n_early"]["4"][0] == pytest.approx(-0.1, abs=0.01)
    assert set(s["regime"]["el2n_early"]) == {"4", "8", "16"}
    text = report_c2.c2_verdict_text(s)
    assert text.startswith("Claim C2 holds at ") and "Rule, fixed before the airbench runs:" in text and len(text.split()) <= 90
    assert "EL2N early in training beats random: holds" in text
    checks = report_c2.c2_checks_table(s)
    assert checks.loc["GraNd@init (restore bug) minus GraNd@init", "30% pruned"].endswith("above")
    assert "at 16 epochs" in report_c2.c2_budget_text(s) and "at 4 epochs" in report_c2.c2_budget_text(s)


def test_c2_per_class_and_checkpoint_tables_read_the_summary():
    P = profiles.resolve_profile("cpu")
    eff = _effects()
    eff.update({("el2n_predrop", "keep_highest", 0.5, 8): 0.04, ("grand_predrop", "keep_highest", 0.5, 8): 0.0})
    runs = _synthetic_runs(eff)
    s = c2.summary(P, runs, c2.differences(runs))
    assert report_c2.c2_per_class_text(s).split("Minus random, per class: ")[1].startswith(
        "above: GraNd@init; no detectable difference: EL2N early.")
    t = report_c2.c2_per_class_table(s)
    assert list(t.index) == ["GraNd@init", "EL2N early"]
    assert t.loc["GraNd@init", "whole set minus random"].endswith("below")
    assert t.loc["GraNd@init", "per class minus whole set"].startswith("+6.0 [")
    s["early_checkpoint"] = {"early": 0.1, "early_epoch": 0.8, "first_drop_epoch": 2.4, "test_acc_epoch_1": 0.58,
                             "last_epoch_before_drop": 2.0, "test_acc_before_drop": 0.65, "test_acc_end": 0.83,
                             "predrop": 0.25, "predrop_epoch": 2.0, "test_acc_predrop": 0.65,
                             "test_acc_early": [float("nan"), 0.58]}
    ck = report_c2.c2_checkpoint_table(s)
    assert list(ck.index) == ["GraNd@init", "GraNd early", "GraNd@pre-drop", "GraNd@init (restore bug)", "EL2N early",
                              "EL2N@pre-drop"]
    assert list(ck.checkpoint) == ["0% (epoch 0)", "10% (epoch 0.8)", "25% (epoch 2)", "100% (epoch 8)",
                                   "10% (epoch 0.8)", "25% (epoch 2)"]
    assert list(ck["test accuracy there"]) == ["untrained", "below 58.0%", "65.0%", "83.0%", "below 58.0%", "65.0%"]
    assert ck["minus random at 50% pruned"].iloc[5].startswith("+4.0 [") and ck["minus random at 50% pruned"].iloc[5].endswith("above")
    early = report_c2.c2_early_text(P, s["early_checkpoint"])
    assert "A second set of scoring runs, checkpointed at 25% (epoch 2, 65.0% test accuracy)" in early
    assert "was below 58.0% (test accuracy is measured only after whole epochs: the bound is the one after epoch 1);" in early
    assert s["headline"]["effect"] == pytest.approx(0.0)  # the headline effect is EL2N early minus random at 50%
    headline_only = {"headline": {"pending": {"stored": {"c2_per_class": ["el2n_early"]}, "c2_per_class": ["grand_init"]}}}
    assert report_c2.c2_per_class_text(headline_only) == ("Per-class selection at 50% pruned (EL2N early, GraNd@init) is "
                                                          "in this profile's grid and is read once the grid is complete.")
    assert report_c2.c2_per_class_text({"headline": {"pending": {}}}).startswith("This profile's grid runs no per-class")


A, N, B, F = "above", "no detectable difference", "below", stats.FEW_SEEDS


@pytest.mark.parametrize("init, late, reading", [
    ({"0.5": A}, {"0.5": N}, c2.FITS),  # unlike GraNd@init, like a late score: the bug explains the gap
    ({"0.3": A, "0.5": A}, {"0.3": N, "0.5": N}, c2.FITS),
    ({"0.5": N}, {"0.5": B}, c2.DOES_NOT_FIT),  # the buggy scores prune no better than the true ones
    ({"0.3": B, "0.5": N}, {"0.3": N, "0.5": N}, c2.DOES_NOT_FIT),
    ({"0.5": A}, {"0.5": A}, c2.MIXED),  # above GraNd@init, but not like forgetting
    ({"0.3": A, "0.5": N}, {"0.3": N, "0.5": N}, c2.MIXED),
    ({"0.5": A}, {"0.5": F}, None),  # a cell without an interval is not read
    ({"0.5": A}, {}, None),  # forgetting not run
    ({"0.3": A}, {"0.5": N}, None),  # no fraction where both ran
])
def test_restore_bug_reading_follows_the_chapters_expectation(init, late, reading):
    point = {A: [0.01, 0.005, 0.02], N: [0.0, -0.01, 0.01], B: [-0.01, -0.02, -0.005], F: [0.01, float("nan"), float("nan")]}
    checks = {"restore_bug_minus_grand_init": {f: point[d] + [d] for f, d in init.items()},
              "restore_bug_minus_forgetting": {f: point[d] + [d] for f, d in late.items()}}
    assert c2.restore_bug_reading(checks) == reading
    text = report_c2.restore_bug_text({"checks": checks})
    if reading is None:
        assert text.startswith("The restore-bug explanation is not read" if init and late and set(init) & set(late)
                               else "This profile's grid does not run both restore-bug checks")
    else:
        assert text.startswith(f"The restore-bug explanation {report_c2.RESTORE_BUG_WORDS[reading]} at this regime: at ")


@pytest.mark.parametrize("case, verdict", [
    ({}, "holds"),  # GraNd@init below, both early scores above somewhere and below nowhere
    ({"grand_init": 0.03}, "fails"),  # GraNd@init above random
    ({"el2n_30": -0.05}, "fails"),  # EL2N early below random and above nowhere
    ({"grand_early": 0.0}, "inconclusive"),  # GraNd early never distinguishable from random
])
def test_c2_headline_follows_its_rule(case, verdict):
    P = profiles.resolve_profile("cpu")
    runs = _synthetic_runs(_effects(**case))
    h = c2.summary(P, runs, c2.differences(runs))["headline"]
    assert h["verdict"] == verdict and h["seeds"] == 3
    assert h["ci"][0] <= h["effect"] <= h["ci"][1] and "fastnet, 8 epochs" in h["regime"] and "85.0%" in h["regime"]
    assert h["published"] == pytest.approx(0.0168)


def test_c2_headline_needs_three_seeds():
    P = profiles.resolve_profile("cpu")
    runs = _synthetic_runs(_effects(), seeds=2)
    assert c2.summary(P, runs, c2.differences(runs))["headline"]["verdict"] == "inconclusive"


def test_keep_per_class_keeps_every_class_in_proportion():
    from datadiet_core import selection
    y = np.repeat(np.arange(4), [100, 200, 300, 400])
    score = np.where(y == 3, 10.0, 0.0) + np.random.default_rng(0).random(1000)  # class 3 scores highest
    whole = selection.keep_highest(score, 0.3)
    per = selection.keep_per_class(score, y, 0.3)
    assert set(y[whole]) == {3}  # whole-set selection deletes three classes
    assert np.bincount(y[per]).tolist() == [30, 60, 90, 120]
    inside = per[y[per] == 1]  # within a class, still the highest scores
    assert score[inside].min() >= np.sort(score[y == 1])[-60]
    assert np.all(np.diff(per) > 0)
    with pytest.raises(Exception, match="parameter 'labels'"):
        selection.keep_per_class(score, y[:10], 0.3)


def test_starvation_text_counts_classes():
    kept = pd.DataFrame({"selection": ["a"] * 3 + ["b"] * 3, "class": ["x", "y", "z"] * 2,
                         "count": [100, 100, 100, 290, 10, 0]})
    text = report.starvation_text(kept)
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
    assert summary["headline"]["verdict"] == "inconclusive"  # 2 seeds: no headline verdict
    assert all(c[3] == stats.FEW_SEEDS and np.isnan(c[1]) for by_f in summary["diff_to_random"].values()
               for c in by_f.values())  # and no interval at all
    assert set(summary["per_class_to_random"]) == set(P.c2_per_class)
    kept = c2_picks.kept_per_class(P, bank.score_bank(P, s))
    assert (kept.groupby("selection")["count"].sum() == 750).all()
    assert c2.compute_seconds(P, s, runs) > 0
    cost = {c["claim"]: c for c in sweep.measured_cost(P, s)}  # read from the manifests, shared stages once
    assert cost["setup"]["stored"] == cost["setup"]["runs"] == 8 and cost["c2"]["stored"] == len(c2.grid(P))
    assert cost["c3"]["stored"] == 0 and cost["c2"]["hours"] > 0
    # the plan's estimate for the stored runs alone: all of c2's, none of c3's
    assert cost["c2"]["estimated_stored_hours"] == pytest.approx(cost["c2"]["estimated_hours"]) and cost["c2"]["estimated_hours"] > 0
    assert cost["c3"]["estimated_stored_hours"] == 0
    # the estimate counts every task of the grid at the benchmark's throughput, stored or not
    shared = len([x for x in bank.stages(P) if x])
    c2_tasks = [t for stage in sweep.stages("c2", P) for t in stage if t.stage >= shared]
    r = sweep.rates(P)[0]
    expected = sum(sweep.task_seconds(P, t, r) for t in c2_tasks) / 3600
    assert len(c2_tasks) == len(c2.grid(P)) and expected > 0 and cost["c2"]["estimated_hours"] == pytest.approx(expected)
    assert cost["c3"]["estimated_hours"] > 0
    table = cost_table("smoke", list(cost.values()))
    assert table.splitlines()[-1].startswith("Stored runs: ") and "runs not stored yet" in table
    # every pass is priced: a pruned run's training images at the training rate, its evaluation
    # at the forward rate; a score entry at GraNd's and the forward rate
    spec = c2_tasks[0]
    parts = sweep.task_images(P, spec)
    assert parts["train"] == c2.run_epochs(P, spec.spec) * 1500 and parts["forward"] > 0 and parts["grand"] == 0
    score = next(t for stage in sweep.stages("setup", P) for t in stage if isinstance(t.spec, bank.ScoreSpec))
    assert sweep.task_images(P, score)["grand"] == 1500
    # a score entry of the test split is priced at the test split's images, not the training set's
    test = dataclasses.replace(score.spec, split="test")
    n_test = sweep._sizes(P)[1]
    assert n_test != 1500 and sweep.task_images(P, sweep.Task("setup", 0, test))["grand"] == n_test
    assert sweep.task_images(P, sweep.Task("setup", 0, dataclasses.replace(test, images=10)))["grand"] == 10


def test_airbench_grid_holds_the_cells_its_parts_read_and_no_more():
    P = profiles.resolve_profile("airbench")
    grid = c2.grid(P)
    assert len(set(grid)) == len(grid)
    cells = {}
    for g in grid:
        cells.setdefault((g.score, g.prune, g.rule, g.budget, g.epochs), set()).add(g.eval_index)
    assert all(seeds == {0, 1, 2} for seeds in cells.values())  # 3 seeds everywhere: every cell has an interval
    head = {(s, f) for s, f, r, b, e in cells if r == "keep_highest" and b == "epochs"}
    assert head == ({(s, f) for s in ("random", "input_norm", "grand_init", "el2n_early") for f in (0.3, 0.5, 0.6)}
                    | {(s, 0.5) for s in ("grand_early", "forgetting", "grand_init_restore_bug")})
    assert {(s, f, r) for s, f, r, b, e in cells if b == "iterations"} == {("random", 0.5, "keep_highest"),
                                                                           ("el2n_early", 0.5, "keep_highest")}
    assert {s for s, f, r, b, e in cells if r == "per_class"} == {"el2n_early", "grand_init"}
    assert {r for s, f, r, b, e in cells} == {"keep_highest", "per_class"} and {e for *_, e in cells} == {None}
    for score in c2.PARTS:  # every part of the headline has its cells under the headline's convention
        assert any(s == score and r == "keep_highest" and b == P.c2_budget for s, f, r, b, e in cells)


def test_c2_headline_is_a_table_of_parts_with_readings_beside_them():
    P = profiles.resolve_profile("cpu")
    eff = _effects()
    eff.update({("el2n_predrop", "keep_highest", 0.5, 8): 0.04, ("grand_predrop", "keep_highest", 0.5, 8): 0.0})
    runs = _synthetic_runs(eff)
    h = c2.summary(P, runs, c2.differences(runs))["headline"]
    assert list(h["parts"]) == ["grand_init", "el2n_early", "grand_early"]
    assert [p["verdict"] for p in h["parts"].values()] == ["holds", "holds", "holds"] and h["verdict"] == "holds"
    gi = h["parts"]["grand_init"]
    assert gi["per_class"]["effect"] == pytest.approx(0.01) and gi["per_class"]["direction"] == "above"
    assert gi["published"] == pytest.approx(-0.0135) and "fork" in gi["published_source"]
    assert gi["predrop"] is None and h["parts"]["el2n_early"]["predrop"]["effect"] == pytest.approx(0.04)
    assert "32 steps" not in h["regime"] and "equal iterations" in h["regime"]
    # Under equal epochs a part is set beside Kirsch's PyTorch table where it has the score.
    a = profiles.resolve_profile("airbench")
    assert c2.published_for(a, "grand_init") == ({"0.5": pytest.approx((89.97 - 91.39) / 100)}, next(
        k for k in c2.PUBLISHED if c2.PUBLISHED[k]["budget"] == "epochs"))
    assert c2.published_for(a, "grand_early")[1] == c2.FORK  # not in the PyTorch table
    # At every fraction the part ran that its source has, and no other.
    by_f, _ = c2.published_for(a, "el2n_early", (0.1 + 0.2, 0.5, 0.6, 0.7))  # 0.30000000000000004 reads as 0.3
    assert by_f == {"0.3": pytest.approx(0.0090), "0.5": pytest.approx(0.0117), "0.6": pytest.approx(-0.0034)}
    assert c2.published_for(a, "forgetting") == ({}, "")
    assert gi["published_by_fraction"] == {"0.3": pytest.approx(-0.0036), "0.5": pytest.approx(-0.0135)}
    row = next(r for r in report.parts_table("c2", h).splitlines() if r.startswith("| GraNd at initialisation"))
    assert "| 30%: below (published -0.4); 50%: below (published -1.4); 70%: below |" in row
    assert c2.checkpoint_text(a) == "epoch 2" and c2.checkpoint_text(P) == "10%"


def test_c2_summary_states_the_headline_from_its_cells_while_the_side_analyses_compute(results_dir):
    P = digits_profile(prune_fractions=(0.5,), eval_seeds=2, regime_epochs=(1,), c2_budget="epochs",
                       c2_budgets=("epochs",), c2_scores=("random", "grand_init", "el2n_early"),
                       c2_side_scores=("grand_early", "forgetting"), c2_per_class=("el2n_early",),
                       c2_rule_scores=(), c2_cross_scores=("random", "el2n_early"))
    H = headlines.headline_profile("c2", P)
    assert {(g.score, g.rule, g.budget, g.epochs) for g in c2.grid(H)} == {
        (s, "keep_highest", "epochs", None) for s in ("random", "grand_init", "el2n_early", "grand_early")}
    assert set(c2.grid(H)) < set(c2.grid(P))  # the same cells, so the same store entries
    s = store.Store.for_profile("smoke")
    sweep.sweep("setup", P, s.root, progress=None)
    with pytest.raises(MissingResults, match=r"^\d+ of \d+ runs of c2 are not in the store"):
        summaries.claim2(P, s.reader())  # no headline cell yet: the whole grid's sweep command
    n = len(c2.grid(H))
    some = H.replace(c2_scores=("random",), c2_side_scores=())  # random's cells land first
    sweep.sweep("c2", some, s.root, progress=None)
    counted = summaries.progress(P, s.reader())["c2"]
    assert counted == {"stored": len(c2.grid(some)), "runs": n, "command": runs.sweep_command("c2", P) + " --headline"}
    assert 0 < counted["stored"] < n
    missing = {"smoke": {"progress": {"c2": counted}}}
    assert regimes.claim_table("c2", missing).strip().endswith(
        f"not computed yet: {counted['stored']} of its headline's {n} runs are stored ({n - counted['stored']} to run: "
        f"`{counted['command']}`).")
    assert regimes.agreement("c2", missing).endswith(f"are not all committed ({counted['stored']} of {n} stored).")
    sweep.sweep("c2", H, s.root, progress=None)
    assert "c2" not in summaries.progress(P, s.reader())  # every headline run stored: a section, not a count
    partial = summaries.claim2(P, s.reader())
    h = partial["headline"]
    left = len(set(c2.grid(P)) - set(c2.grid(H)))  # every cell the headline does not read: none stored yet
    assert h["pending"] == {"c2_side_scores": ["forgetting"], "c2_per_class": ["el2n_early"], "regime_epochs": [1],
                            "c2_cross_scores": ["random", "el2n_early"], "runs": left, "c2_budget": "epochs",
                            "command": runs.sweep_command("c2", P)}
    assert set(h["parts"]) == set(c2.PARTS) and h["parts"]["el2n_early"]["per_class"] is None
    text = regimes.pending_text(h)
    assert text.startswith("Stated from the headline's cells alone; not yet complete: forgetting at 50% pruned; "
                           "per-class selection by EL2N early; the regime map at 1 epoch; random and EL2N early at "
                           f"50% pruned under equal iterations ({left} runs: `python -m datadiet_core sweep c2 --profile smoke")
    # A side analysis whose cells land leaves the list, and the count falls by its runs.
    F = P.replace(c2_side_scores=("grand_early", "forgetting"), c2_per_class=(), regime_epochs=(), c2_cross_scores=())
    sweep.sweep("c2", F, s.root, progress=None)
    fewer = summaries.claim2(P, s.reader())["headline"]["pending"]
    assert "c2_side_scores" not in fewer and fewer["runs"] == left - len(set(c2.grid(F)) - set(c2.grid(H)))
    # ... and is named as stored, not yet read, until the whole grid is in.
    assert fewer["stored"] == {"c2_side_scores": ["forgetting"]}
    assert regimes.pending_text({"pending": fewer}).startswith(
        "Stated from the headline's cells alone; stored, compared once the rest is in: forgetting at 50% pruned; "
        "not yet complete: per-class selection by EL2N early;")
    landed = {**h, "pending": {**h["pending"], "stored": {"c2_per_class": ["el2n_early"]}}}
    landed["pending"].pop("c2_per_class")
    table = report.parts_table("c2", landed)
    assert table.count("stored, read once the grid is complete") == 1 and "not yet complete" not in table
    assert "not yet complete" in report.parts_table("c2", h) and text in regimes.claim_table("c2", {"smoke": {"c2": partial}})
    sweep.sweep("c2", P, s.root, progress=None)
    whole = summaries.claim2(P, s.reader())
    assert "pending" not in whole["headline"] and regimes.pending_text(whole["headline"]) == ""
    assert whole["headline"]["parts"]["el2n_early"]["per_class"] is not None
    assert whole["headline"]["parts"]["grand_init"]["at_50"]["effect"] == h["parts"]["grand_init"]["at_50"]["effect"]
    both = regimes.agreement("c2", {"smoke": {"c2": whole}, "airbench": {"c2": partial}})
    assert both.endswith("In airbench, the verdict rests on the headline cells alone so far, while the rest of its "
                         "grid computes.")
    assert "Stated from the headline's cells alone" in regimes.verdict_table({"smoke": {"c2": whole}, "airbench": {"c2": partial}})


def test_c2_accuracy_table_names_the_seeds_of_a_cell_with_fewer():
    acc = pd.DataFrame({"score": ["random", "random", "forgetting"], "prune": [0.3, 0.5, 0.5],
                        "mean": [0.9, 0.85, 0.538], "std": [0.01, 0.02, 0.0004], "seeds": [3, 3, 2]})
    t = report_c2.c2_accuracy_table(acc)
    assert t.loc["random", "30% pruned"] == "90.0 ± 1.0" and t.loc["forgetting", "50% pruned"] == "53.8 ± 0.0 (n = 2)"
