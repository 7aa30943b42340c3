"""Claim C3 (modules c3 and dynamic): dynamic pruning against static pruning."""
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from datadiet_core import ParameterError, bank, c2_picks, c3, c3_picks, c3_settings, data, dynamic, profiles, regimes, report, report_c3, report_c3_cost, runs, selection, stats, store, sweep, train
from small import digits_profile


def test_c3_runs_cost_what_they_prune_and_record_their_selections(results_dir):
    P = digits_profile(c3_rates=(0.7,), c3_epochs=(2,), eval_seeds=1, c3_iterations=("random_static", "ucb"))
    s = store.Store.for_profile("smoke")
    sweep.sweep("c3", P, s.root, progress=None)
    loaded = c3.load(P, s)
    runs = loaded.main.set_index("selector")
    assert set(runs.index) == {"full", *selection.SELECTORS, "always_plus_static", "always_plus_random"}
    # Full data is the scoring runs (seeds 0 and 1): the one full-data baseline of every chapter.
    assert sorted(runs.loc["full", "seed"]) == [0, 1]
    full = runs.loc["full", "images_seen"].iloc[0]
    # Equal iterations: as many steps as full data, so 30% of the rows are passed over 1/0.3 times
    # as often; UCB re-selects every round(0.05 * 2 / 0.3) = 1 pass; each cell's final fit is kept.
    it = loaded.iterations.set_index("selector")
    assert set(it.index) == {"full", "random_static", "ucb"} and it.loc["random_static", "images_seen"] == full
    assert it.loc["ucb", "selections"] == -(-2 * 15 // 4) and np.isfinite(it.loc["ucb", "train_acc_end"])
    assert it.loc["random_static", "train_acc_end"] > runs.loc["random_static", "train_acc_end"]  # fits it better
    for sel in selection.STATIC_SELECTORS + selection.DYNAMIC_SELECTORS:
        # 2 passes over 30% of 1,500 rows in full batches of 100: 4 steps a pass.
        assert runs.loc[sel, "images_seen"] == 2 * 4 * 100 < full
    for sel in ("selective_backprop", "random_backprop"):
        assert runs.loc[sel, "images_seen"] == round(2 * 15 * 0.3) * 100
    assert 0.3 * full < runs.loc["infobatch", "images_seen"] < full  # prunes only low-loss samples
    # Only the loss-driven selectors pay for scoring passes; static ones are charged their scores.
    assert (runs.loc[["uncertainty_ema", "epsilon_greedy", "ucb", "selective_backprop"], "scoring_seconds"] > 0).all()
    assert (runs.loc[["random_dynamic", "random_static", "random_backprop"], "scoring_seconds"] == 0).all()
    charged = runs.wallclock_s - runs.train_seconds
    assert charged["random_static"] == 0 and charged["el2n_static"] > 0
    scoring = [r.metrics["train_seconds"] for r in bank.scoring_runs(P, s)]
    assert charged["forgetting_static"] == pytest.approx(sum(scoring))  # every scoring run in full
    passes = [bank.model_scores(P, s, k, P.early, "train") for k in range(2)]
    el2n = sum(r.manifest["wall_seconds"] - r.metrics["grand_seconds"] for r in passes)  # EL2N needs no GraNd
    assert 0 < el2n < sum(r.manifest["wall_seconds"] for r in passes)
    assert charged["el2n_static"] == pytest.approx(0.1 * sum(scoring) + el2n)  # their first 10% + EL2N passes
    # Table 1's probes are charged the per-class uncertainty-EMA runs their fixed rows come from.
    sources = [r.metrics["train_seconds"] for r in dynamic.table1_sources(P, s)]
    assert charged["always_plus_random"] == pytest.approx(sum(sources)) and sources[0] > 0
    assert charged["always_plus_static"] == pytest.approx(sources[0])
    rec = dynamic.dynamic_run(P, s, "ucb", 0.7, 0, 2)
    counts = rec.arrays["selection_counts"]
    assert rec.metrics["checkpoints"] == 2 and counts.sum() == 2 * 450 and counts.max() <= 2
    # Only uncertainty-EMA's final score is read (Table 1's probes), so only it is stored.
    assert "final_score" not in rec.arrays
    ema = dynamic.dynamic_run(P, s, "uncertainty_ema", 0.7, 0, 2)
    assert ema.arrays["final_score"].shape == (1500,) and np.isfinite(ema.arrays["final_score"]).all()
    # A run stored before that (here: UCB's, final score written back) loses it when compacted.
    arrays = {**rec.arrays, "final_score": ema.arrays["final_score"]}
    shutil.rmtree(rec.path)
    s.put("train", rec.config, rec.metrics, arrays, wall_seconds=rec.manifest["wall_seconds"])
    assert "final_score" in dynamic.dynamic_run(P, s, "ucb", 0.7, 0, 2).arrays
    bank.compact(s, P, dynamic.unread_arrays)
    compacted = dynamic.dynamic_run(P, s, "ucb", 0.7, 0, 2)
    assert compacted.dropped == ["final_score"] and "final_score" not in compacted.arrays
    assert "final_score" in dynamic.dynamic_run(P, s, "uncertainty_ema", 0.7, 0, 2).arrays
    np.testing.assert_array_equal(compacted.arrays["selection_counts"], counts)
    static = dynamic.dynamic_run(P, s, "el2n_static", 0.7, 0, 2).arrays["selection_counts"]
    assert set(np.unique(static)) == {0, 2}  # the same rows both times
    summary = c3.summary(P, loaded)
    assert set(summary["acc_mean"]) >= set(selection.SELECTORS) | {"full"}
    assert set(summary["wallclock_s"]["ucb"]) == {"0.7"} and summary["wallclock_s"]["full"] > 0
    assert all(v in (None, True, False, "above", "below", "no detectable difference", "mixed", "at chance")
               for v in summary["verdict"].values())
    assert summary["headline"]["verdict"] in ("holds", "fails", "inconclusive")
    # Every re-selection stores its classes and the divergence checks.
    per = rec.arrays["selection_classes"]
    assert per.shape == (2, 10) and (per.sum(1) == 450).all()
    assert rec.arrays["selection_checks"].shape == (2, len(dynamic.CHECK_COLUMNS))
    assert np.isfinite(rec.arrays["selection_checks"]).all()
    balanced = dynamic.dynamic_run(P, s, "ucb", 0.7, 0, 2, variant="per_class")
    y = train.device_data(P).y_train.numpy()
    want = [round(0.3 * n) for n in np.bincount(y)]
    assert (balanced.arrays["selection_classes"] == want).all() and balanced.config["c3"]["variant"] == "per_class"
    kept = balanced.arrays["selection_classes"]
    assert c3_picks.class_turnover(kept / kept.sum(1, keepdims=True)) == 0  # per class: the mix never moves
    assert "variant" not in rec.config["c3"] and balanced.path != rec.path
    with pytest.raises(Exception, match="parameter 'variant'"):
        dynamic.dynamic_run(P, s, "random_dynamic", 0.7, 0, 2, variant="per_class")
    # Re-selecting every 2 passes: one selection in 2 passes, a store entry of its own, and the
    # main grid's entry keeps its key (no period in its configuration).
    slow = dynamic.dynamic_run(P, s, "ucb", 0.7, 0, 2, period=2)
    assert slow.metrics["checkpoints"] == 1 and slow.arrays["selection_counts"].max() == 1
    assert slow.config["c3"]["period_passes"] == 2 and "period_passes" not in rec.config["c3"]
    assert slow.path != rec.path
    swept = loaded.periods
    assert set(swept.selector) == set(c3.PERIOD_SELECTORS) and set(swept.period) == {2}
    assert set(loaded.main.period) == {1}
    assert set(loaded.imbalanced.selector) == {"full", *c3.IMBALANCED_SELECTORS}
    with pytest.raises(Exception, match="parameter 'period'"):
        dynamic.dynamic_run(P, s, "ucb", 0.7, 0, 2, period=0)
    with pytest.raises(Exception, match="parameter 'selector'"):
        dynamic.dynamic_run(P, s, "loss", 0.7, 0)
    with pytest.raises(Exception, match="parameter 'prune'"):
        dynamic.dynamic_run(P, s, "ucb", 1.0, 0)


def test_c3_grid_runs_the_core_everywhere_and_the_rest_where_the_profile_says():
    P = profiles.resolve_profile("cpu")
    grid = c3.grid(P)
    seeds = {}
    for g in grid:
        seeds.setdefault((g.selector, g.prune, g.epochs, g.imbalance, g.period, g.variant), set()).add(g.eval_index)
    for (sel, prune, epochs, imbalance, period, variant), got in seeds.items():  # 3 seeds where the headline rests
        headline = (sel in c3.HEADLINE_SELECTORS and epochs == 8 and imbalance == "none" and not period
                    and not variant and (sel == "full" or prune >= 0.7))
        scoring = sel == "full" and epochs == P.epochs and imbalance == "none"  # the scoring runs, seeds 0-3
        assert got == set(range(P.scoring_seeds if scoring else 3 if headline else 2)), (sel, prune, epochs)
    assert all(g.scoring_run == (g.selector == "full" and g.epochs == 8 and g.imbalance == "none") for g in grid)
    assert {(g.selector, g.variant) for g in grid if g.variant} == {(s, v) for s in ("uncertainty_ema", "epsilon_greedy", "ucb")
                                                                   for v in P.c3_variants}
    grid = [g for g in grid if not g.variant]
    cells = {(g.selector, g.prune, g.epochs) for g in grid if g.imbalance == "none"}
    # The period sweep: the loss-driven selectors at 70% and the longest budget, every T passes
    # (none in the cpu profile; the main period itself adds no run).
    assert all(g.period == 0 for g in grid)
    swept = c3.grid(P.replace(c3_periods=[1, 2, 4]))
    assert {(g.selector, g.prune, g.epochs, g.period) for g in swept if g.period} == {
        (s, 0.7, 8, T) for s in c3.PERIOD_SELECTORS for T in (2, 4)}
    assert len(swept) == len(c3.grid(P)) + 2 * 2 * 2
    for sel in P.c3_core:
        assert {r for s, r, e in cells if s == sel and e == 8} == set(P.c3_rates)
        assert {r for s, r, e in cells if s == sel and e == 4} == {0.7, 0.8, 0.9}  # aggressive rates only
    for sel in set(selection.SELECTORS) - set(P.c3_core):
        assert {(r, e) for s, r, e in cells if s == sel} == {(0.7, 8)}
    assert {("full", 0.0, 8), ("full", 0.0, 4), ("always_plus_static", 0.7, 8), ("always_plus_random", 0.7, 8)} <= cells
    # Table 1 comes after the uncertainty-EMA runs it is built from; the longest budget first.
    first_t1 = min(i for i, g in enumerate(grid) if g.selector.startswith("always"))
    assert max(i for i, g in enumerate(grid) if g.selector == "uncertainty_ema") < first_t1
    assert grid[0].epochs == 8
    imbalanced = {(g.selector, g.prune, g.epochs) for g in grid if g.imbalance == "raju_table2"}
    assert imbalanced == {("full", 0.0, 8)} | {(s, r, 8) for s in c3.IMBALANCED_SELECTORS for r in (0.5, 0.7)}
    paper = c3.grid(profiles.resolve_profile("paper"))
    assert {(g.selector, g.prune) for g in paper if g.epochs == 200} >= {(s, r) for s in selection.SELECTORS
                                                                       for r in (0.3, 0.5, 0.7, 0.8, 0.9)}


def _c3_frame(cells: dict, epochs: int, seconds: float = 100.0, seeds: int = 3) -> list[dict]:
    """Synthetic runs: ``seeds`` seeds per (selector, fraction pruned) around the given mean accuracy, +-0.002."""
    rows = []
    for (sel, prune), acc in cells.items():
        for k, d in enumerate(np.linspace(-0.002, 0.002, seeds)):
            t = seconds * (1 - prune)
            rows.append({"selector": sel, "prune": prune, "epochs": epochs, "seed": 1000 + k, "test_acc": acc + d,
                         "images_seen": 1000 * (1 - prune), "train_seconds": t, "scoring_seconds": 0.0,
                         "selections": 4, "wallclock_s": t, "period": 1, "train_acc_end": 1.0})
    return rows


def _no_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.iloc[:0]


def test_c3_comparisons_are_read_by_their_rules_and_say_not_run_when_missing():
    P = profiles.resolve_profile("cpu")
    core = {("full", 0.0): 0.80}
    for r in (0.7, 0.9):
        core.update({("random_dynamic", r): 0.70, ("random_static", r): 0.60, ("el2n_static", r): 0.50,
                     ("forgetting_static", r): 0.55, ("ucb", r): 0.70})
    side = {(s, 0.7): 0.70 for s in ("uncertainty_ema", "epsilon_greedy", "el2n_epsilon_static", "infobatch",
                                      "selective_backprop", "random_backprop")}
    side[("ucb", 0.7)] = 0.75  # UCB above uncertainty EMA at 70%, and above random dynamic there but tied at 90%
    runs = pd.DataFrame(_c3_frame({**core, **side}, 8) + _c3_frame(core, 4))
    s = c3.summary(P, c3.Runs(runs, _no_runs(runs), _no_runs(runs), _no_runs(runs), _no_runs(runs)))
    v8, v4 = s["by_budget"]["8"]["verdict"], s["by_budget"]["4"]["verdict"]
    assert v8["random_dynamic_vs_el2n_static"] == "above" and v8["random_dynamic_vs_random_static"] == "above"
    assert v8["ucb_vs_uncertainty_ema"] == "above" and v8["epsilon_greedy_vs_uncertainty_ema"] == "no detectable difference"
    assert v8["ucb_vs_random_dynamic"] == "mixed"  # above at 70%, no detectable difference at 90%
    assert v4["ucb_vs_uncertainty_ema"] is None and v4["random_dynamic_vs_forgetting_static"] == "above"
    assert s["headline"]["verdict"] == "holds" and s["headline"]["seeds"] == 3
    assert s["headline"]["effect"] == pytest.approx(0.20) and s["headline"]["ci"][0] > 0.19
    assert v8["wallclock_saving_real"] is True and v8["speedup_goal_met"] is True  # 1/0.3 with no scoring
    assert s["speedup_at_0.7"]["ucb"] == pytest.approx(1 / 0.3)
    assert s["acc_mean"]["ucb"] == {"0.7": pytest.approx(0.75), "0.9": pytest.approx(0.70)}
    text = report_c3.verdict_text(s)
    assert text.startswith(f"Claim C3 holds at {report.regime_brief(s['headline']['regime'])}.") and len(text.split()) <= 90
    cmp = report_c3.comparisons_table(s)
    assert cmp.loc[(8, "UCB minus uncertainty EMA"), "reading"] == "above" and cmp.loc[(8, "UCB minus uncertainty EMA"), "70%"].startswith("+5.0")
    assert (4, "UCB minus uncertainty EMA") not in cmp.index  # not run at 4 epochs: no row
    # InfoBatch is paired with random dynamic at the rate nearest the images it skipped, and says so
    q = s["by_budget"]["8"]["infobatch_paired_prune"]["0.7"]
    ib = [c for _, c in cmp.index if c.startswith("InfoBatch minus random (dynamic) at the rate nearest")]
    assert len(ib) == 1 and f"against random (dynamic) at {q:.0%})" in ib[0] and "InfoBatch at 70%, " in ib[0]
    table = report_c3_cost.prune_table(runs, 8)
    assert table.loc["UCB", "minus random dynamic (pp) [95% CI]"].startswith("+5.0")
    assert (table["seeds"] >= 1).all() and table.loc["full data", "seeds"] == len(runs[(runs.selector == "full") & (runs.epochs == 8)])
    # A cell's seconds are its seeds' median: one run that shared the cores does not set it.
    assert c3.seconds_per_run(pd.Series([33.0, 35.0, 441.0])) == 35.0 and c3.seconds_per_run(pd.Series([2.0, 4.0])) == 3.0
    row = [ln for ln in regimes.verdict_table({"cpu": {"c3": s}}).splitlines() if ln.startswith("| [C3]")][0]
    assert "**holds**" in row and "+20.0 [" in row and "80 epochs" not in row and "fastnet, 8 epochs" in row
    parts = row.split("<br>")  # each part on its own line: its verdict, then its effect at 70%
    assert any(p.startswith("random dynamic above static EL2N: holds, +20.0 [") and p.endswith(" at 70%") for p in parts)
    assert any(p.startswith("random dynamic above static random: holds, ") for p in parts)


@pytest.mark.parametrize("change, verdict", [
    ({("el2n_static", 0.9): 0.75}, "fails"),  # random dynamic below static EL2N at 90%
    ({("el2n_static", 0.9): 0.70}, "inconclusive"),  # no detectable difference at 90%
    ({("random_static", 0.7): 0.70}, "inconclusive"),  # re-drawing alone adds nothing detectable at 70%
    ({("random_static", 0.9): 0.80}, "fails"),  # below static random at 90%
    ({("random_dynamic", 0.9): 0.10, ("el2n_static", 0.9): 0.05}, "inconclusive"),  # runs at chance are not read
])
def test_c3_headline_follows_its_rule(change, verdict):
    P = profiles.resolve_profile("cpu", c3_epochs=[8])
    cells = {("full", 0.0): 0.80}
    for r in (0.7, 0.9):
        cells.update({("random_dynamic", r): 0.70, ("random_static", r): 0.60, ("el2n_static", r): 0.50,
                      ("forgetting_static", r): 0.55})
    cells.update(change)
    runs = pd.DataFrame(_c3_frame(cells, 8))
    assert c3.summary(P, c3.Runs(runs, _no_runs(runs), _no_runs(runs), _no_runs(runs), _no_runs(runs)))["headline"]["verdict"] == verdict
    two = pd.DataFrame(_c3_frame(cells, 8, seeds=2))
    h2 = c3.summary(P, c3.Runs(two, _no_runs(two), _no_runs(two), _no_runs(two), _no_runs(two)))["headline"]
    assert h2["verdict"] == "inconclusive" and h2["parts"]["random_dynamic_vs_el2n_static"]["directions"]["0.7"] == stats.FEW_SEEDS
    assert np.isnan(h2["ci"][0])  # two seeds: no interval is stated


@pytest.mark.parametrize("at_80, verdict", [(0.78, "holds"), (0.70, "fails"), (0.766, "holds")])
def test_c3_cost_part_sets_random_dynamic_at_80_beside_rajus_3_5_points(at_80, verdict):
    P = profiles.resolve_profile("cpu", c3_epochs=[8], c3_rates=[0.7, 0.8])
    cells = {("full", 0.0): 0.80}
    for r in (0.7, 0.8):
        cells.update({("random_dynamic", r): at_80, ("random_static", r): 0.60, ("el2n_static", r): 0.50})
    runs = pd.DataFrame(_c3_frame(cells, 8))
    h = c3.summary(P, c3.Runs(runs, _no_runs(runs), _no_runs(runs), _no_runs(runs), _no_runs(runs)))["headline"]
    part = h["parts"]["random_dynamic_vs_full_at_0.8"]
    assert part["verdict"] == verdict and part["published"] == -0.035
    assert part["at"]["effect"] == pytest.approx(at_80 - 0.80)
    assert h["verdict"] == "holds"  # the word comes from the two "beats" parts only


def test_imbalanced_training_set_follows_raju_table_2_and_keeps_old_store_keys():
    P = digits_profile(imbalance="raju_table2")
    base = train.device_data(digits_profile())
    n = np.bincount(base.y_train.numpy())
    d = train.device_data(P)
    assert np.bincount(d.y_train.numpy()).tolist() == [int(round(data.RAJU_IMBALANCE[c] * n[c])) for c in range(10)]
    assert np.all(np.diff(d.train_index) > 0) and len(d.y_test) == len(base.y_test)  # order kept, test balanced
    assert "imbalance" not in runs.run_config(digits_profile(), 0)  # entries stored before the field keep their keys
    assert runs.run_config(P, 0)["imbalance"] == "raju_table2"
    with pytest.raises(Exception, match="parameter 'imbalance' must be one of none, raju_table2"):
        digits_profile(imbalance="long_tail")


def test_c3_imbalanced_verdicts_follow_the_rule():
    P = digits_profile()
    E = max(P.c3_epochs)
    cells = {("full", 0.0): 0.7}
    for r in (0.5, 0.7):
        cells.update({("random_dynamic", r): 0.50, ("uncertainty_ema", r): 0.40, ("epsilon_greedy", r): 0.50,
                      ("ucb", r): 0.50})
    cells[("ucb", 0.7)] = 0.55  # above random dynamic at 70%, tied at 50%
    runs = pd.DataFrame(_c3_frame(cells, E))
    s = c3_settings.imbalanced_summary(P, runs)
    assert s["verdict"] == {"ucb_vs_random_dynamic": "above", "epsilon_greedy_vs_random_dynamic": "no detectable difference",
                            "uncertainty_ema_vs_random_dynamic": "below", "ucb_vs_uncertainty_ema": "above"}
    assert s["acc_mean"]["ucb"]["0.7"] == pytest.approx(0.55) and s["acc_mean"]["full"] == pytest.approx(0.7)
    assert 0 < s["n_train"] < train.device_data(P).n_train
    diffs = c3.differences(runs, E, c3.IMBALANCED_COMPARISONS)
    assert len(diffs) == 8 and set(diffs.prune) == {0.5, 0.7}


def test_the_imbalanced_setting_shows_a_table_at_each_rate_it_ran_and_one_chart():
    from datadiet_core import plots
    P = profiles.resolve_profile("airbench")  # one budget: the imbalanced setting is all there is to show
    E = max(P.c3_epochs)
    cells = {("full", 0.0): 0.7}
    for r in (0.5, 0.7):
        cells.update({(sel, r): 0.5 for pair in c3.IMBALANCED_COMPARISONS for sel in pair})
    imb = pd.DataFrame(_c3_frame(cells, E))
    shown = plots.c3_other_settings(P, c3.Runs(imb.iloc[:0], imb, imb.iloc[:0], imb.iloc[:0], imb.iloc[:0]))
    headings = [o.data for o in shown if type(o).__name__ == "Markdown"]
    assert [h.split(", ")[-1].split(":")[0] for h in headings] == ["50% pruned", "70% pruned"]
    assert len(shown) == 5 and type(shown[-1]).__module__.startswith("altair")  # two headings, two tables, one chart


def test_an_imbalance_for_ten_classes_refuses_other_datasets():
    rng = np.random.default_rng(0)
    ds = data.Dataset("three", rng.integers(0, 255, (30, 8, 8, 3), dtype=np.uint8), np.arange(30) % 3,
                      rng.integers(0, 255, (6, 8, 8, 3), dtype=np.uint8), np.arange(6) % 3, ("a", "b", "c"))
    with pytest.raises(Exception, match="parameter 'imbalance' raju_table2 needs a dataset with 10 classes; three has 3"):
        train.prepare(ds, digits_profile(imbalance="raju_table2"), torch.device("cpu"))


def test_c3_period_sweep_verdicts_and_matched_speedup_follow_their_rules():
    P = profiles.resolve_profile("cpu", c3_epochs=[8])  # main period one pass; the frame sweeps every 4
    cells = {("full", 0.0): 0.80, ("random_dynamic", 0.7): 0.70, ("uncertainty_ema", 0.7): 0.20, ("ucb", 0.7): 0.30}
    main = pd.DataFrame(_c3_frame(cells, 8)).assign(period=1)
    # Scoring doubles a loss-driven run every pass (half its seconds), a fifth every 4 passes.
    loss_driven = main.selector.isin(["uncertainty_ema", "ucb"])
    main.loc[loss_driven, "scoring_seconds"] = main.loc[loss_driven, "train_seconds"]
    main.loc[loss_driven, "train_seconds"] *= 2
    swept = pd.DataFrame(_c3_frame({("uncertainty_ema", 0.7): 0.20, ("ucb", 0.7): 0.60}, 8)).assign(period=4)
    swept["scoring_seconds"] = swept.train_seconds / 4
    swept["train_seconds"] *= 5 / 4
    s = c3_settings.add_settings(P, runs_ := c3.Runs(main, main.iloc[:0], swept, main.iloc[:0], main.iloc[:0]),
                                 c3.summary(P, runs_))
    sw = s["period_sweep"]
    assert sw["main_period"] == 1 and [(r["selector"], r["period"]) for r in sw["rows"]] == [
        ("uncertainty_ema", 1), ("uncertainty_ema", 4), ("ucb", 1), ("ucb", 4)]
    assert sw["verdict"] == {"uncertainty_ema_every_4_vs_every_1": "no detectable difference",
                             "ucb_every_4_vs_every_1": "above", "speedup_goal_met_every_4": True}
    ucb4 = sw["rows"][3]
    assert ucb4["diff"] == pytest.approx(0.30) and ucb4["lo"] > 0
    # Matched: (images of full data / images trained on) x share training = (1/0.3) x 0.8.
    assert ucb4["speedup_matched"] == pytest.approx(0.8 / 0.3)
    assert ucb4["speedup_measured"] == pytest.approx(100 / (30 * 5 / 4))
    assert sw["rows"][2]["speedup_matched"] == pytest.approx(0.5 / 0.3)  # every pass: half the time scoring
    assert s["verdict"]["speedup_goal_met"] is False and s["verdict"]["ucb_every_4_vs_every_1"] == "above"
    table = report_c3_cost.period_table(s)
    assert table.loc[("UCB", 4), "minus every pass (pp) [95% CI]"].startswith("+30.0")
    assert table.loc[("UCB", 1), "minus every pass (pp) [95% CI]"] == "(main grid)"


def test_c3_period_plan_says_what_runs():
    cpu = profiles.resolve_profile("cpu")
    assert report_c3_cost.period_plan(cpu).startswith("This regime runs no such sweep: its loss-driven selectors re-select every pass only")
    assert report_c3_cost.period_plan(cpu.replace(c3_periods=[4, 2])) == (
        "We repeat that sweep at 70% pruned and 8 epochs: uncertainty EMA and UCB re-selecting every 2 or 4 "
        "passes, 2 seeds each, against the main grid's one pass.")


def test_matched_speedup_removes_throughput_drift_between_runs():
    full = pd.DataFrame({"selector": ["full"], "images_seen": [1000.0], "train_seconds": [50.0],
                         "scoring_seconds": [0.0]})
    run = pd.DataFrame({"selector": ["x"], "images_seen": [250.0], "train_seconds": [20.0], "scoring_seconds": [5.0]})
    # 4x fewer images, a quarter of the time scoring: 3x, whatever the two runs' throughputs were.
    assert c3.matched_speedup(pd.concat([full, run]), run) == pytest.approx(3.0)
    assert c3.goal_met([3.0, 2.5]) and not c3.goal_met([3.0, 2.49])


def test_speedup_at_a_period_charges_a_whole_scoring_pass_per_selection():
    # full data: 40 s a pass over 4 epochs; the selector: 10 s of training a pass and 4 selections
    # of 6 s each (one a pass). Re-selecting every 10 passes in a 4-pass run still makes the first
    # selection: one whole scoring pass, not 4/10 of one.
    runs = pd.DataFrame({"selector": ["full", "x"], "prune": [0.0, 0.7], "epochs": [4, 4], "images_seen": [4000.0, 1200.0],
                         "train_seconds": [160.0, 64.0], "scoring_seconds": [0.0, 24.0], "selections": [0, 4]})
    out = c3.speedup(runs, 4, "x")
    assert out["period_1"] == pytest.approx(40 / (10 + 6)) and out["measured"] == pytest.approx(160 / 64)
    assert out["period_2"] == pytest.approx(40 / (10 + 2 * 6 / 4))
    assert out["period_10"] == pytest.approx(out["period_5"]) == pytest.approx(40 / (10 + 6 / 4))


def test_every_selector_timed_slower_than_full_data_gets_its_throughput_note():
    parts = {"random_dynamic": {"train_img_s": 2617.0, "full_img_s": 3518.0, "matched": 3.3},
             "ucb": {"train_img_s": 3400.0, "full_img_s": 3518.0, "matched": 1.2}, "infobatch": {}}
    text = report_c3_cost.throughput_notes(parts)
    assert text.startswith("Random (dynamic)'s runs trained at 2,617 images per second against 3,518") and "(74%)" in text
    assert text.count("ran slower than the full-data runs") == 1 and "UCB's runs trained at 3,400" in text
    assert "Timed apart, random (dynamic)'s runs ran slower than the full-data runs, so its measured speed-up" in text


def test_selection_mixture_separates_never_sometimes_and_always():
    rng = np.random.default_rng(0)
    counts = np.concatenate([rng.integers(0, 2, 3000), rng.integers(3, 6, 2000), 8 - rng.integers(0, 2, 1000)])
    m = stats.selection_mixture(counts)
    assert m["names"] == ["never", "sometimes", "always"]
    assert m["means"] == sorted(m["means"]) and sum(m["weights"]) == pytest.approx(1.0)
    assert m["fractions"] == pytest.approx([0.5, 1 / 3, 1 / 6], abs=0.03)
    assert m["group"].tolist() == [0] * 3000 + [1] * 2000 + [2] * 1000
    assert m["ranges"] == [[0, 1], [3, 5], [7, 8]]  # what each name covers, in selections
    assert report_c3.mixture_text(m, 8) == ("never (0-1 of 8 selections) 50%, sometimes (3-5) 33%, always (7-8) 17%")
    # Two distinct counts only: still a fit, and the two groups stay apart.
    two = stats.selection_mixture(np.array([0] * 50 + [3] * 50))
    assert len(set(two["group"][:50])) == 1 and set(two["group"][:50]).isdisjoint(two["group"][50:])


def test_the_first_loss_selection_of_a_fresh_net_starves_classes():
    """The trigger of the loss-driven selectors' collapse (chapter C3): a freshly initialised net
    in eval mode gives one class's examples the lowest loss and a few classes' the highest, so
    the top 30% by loss holds about three or four classes; per-class selection holds all ten."""
    from datadiet_core.models import channels_last
    P = digits_profile()
    data = train.device_data(P)
    y = data.y_train.numpy()
    for seed in (1000, 1001, 1002):
        model = channels_last(train.init_model(P.model, data, seed)).eval()
        losses = dynamic.all_losses(model, P)
        assert np.isfinite(losses).all()
        top = selection.top_k(losses, 450)
        share = np.bincount(y[top], minlength=10) / 450
        assert (share >= 0.02).sum() <= 5 and share.max() >= 0.3  # an even split would be 10% each
        picked = selection.UncertaintyEMA(1500, 0.3, seed, 0.8, labels=y).select(losses)
        assert np.bincount(y[picked], minlength=10).min() >= 0.3 * np.bincount(y).min() - 1


def test_class_turnover_is_the_share_of_a_selection_that_moves_to_other_classes():
    """0 when every selection keeps its class mix, 1 when the classes swap at every re-selection
    (the alternation of a loss-driven selector that trains on a few classes at a time), the
    total-variation distance in between, and undefined for a single selection."""
    swap = np.array([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5], [0.5, 0.5, 0, 0]])
    assert c3_picks.class_turnover(swap) == 1.0
    assert c3_picks.class_turnover(np.full((3, 4), 0.25)) == 0.0
    assert c3_picks.class_turnover(np.array([[0.5, 0.5, 0, 0], [0.5, 0, 0.5, 0]])) == 0.5
    assert np.isnan(c3_picks.class_turnover(swap[:1]))
    text = report_c3.collapse_text({"diverged": False, "at_chance": {"ucb": False, "uncertainty_ema": False},
                                    "class_turnover": {"ucb:as specified": 0.97, "ucb:random_first": 0.3}})
    assert "UCB as specified 97%; UCB with its first selection random 30%." in text
    # Random dynamic, as specified, beside the diagnosed selectors (ε-greedy among them), last.
    beside = {"diverged": False, "at_chance": {"ucb": False, "uncertainty_ema": False, "epsilon_greedy": False},
              "class_turnover": {"ucb:as specified": 0.5, "random_dynamic:as specified": 0.012,
                                 "epsilon_greedy:as specified": 0.73, "epsilon_greedy:per_class": 0.0},
              "epsilon_greedy_per_class_minus_as_specified": [0.3, 0.2, 0.4, "above"]}
    text = report_c3.collapse_text(beside)
    assert text.count("ε-greedy per class minus as specified: +30.0 [+20.0, +40.0] points, above. ") == 1
    assert ("ε-greedy as specified 73%; ε-greedy per class 0%; UCB as specified 50%; random (dynamic) 1%. No selector "
            "ended at chance as specified.") in text


def test_collapse_table_says_not_stored_for_runs_stored_without_their_classes():
    """The cpu grid's ε-greedy runs predate the stored class shares and checks: their accuracy is
    read, their class columns say "not stored" (never "nan%")."""
    nan = float("nan")
    checks = pd.DataFrame([
        {"selector": "ucb", "variant": "as specified", "seed": 1000, "test_acc": 0.3, "finite": True, "weight_abs_max": 2.0,
         "bn_var_min": 0.01, "bn_var_max": 3.0, "first_max_share": 0.33, "min_share": 0.0, "class_turnover": 0.4},
        {"selector": "epsilon_greedy", "variant": "as specified", "seed": 1000, "test_acc": 0.24, "finite": True,
         "weight_abs_max": nan, "bn_var_min": nan, "bn_var_max": nan, "first_max_share": nan, "min_share": nan,
         "class_turnover": nan}])
    table = report_c3.collapse_table(checks)
    eps = table.loc[("ε-greedy", "as specified")]
    assert eps["accuracy (%)"].startswith("24.0 ± ") and (eps.iloc[3:] == "not stored").all()
    assert "nan%" not in table.to_string()
    assert table.loc[("UCB", "as specified"), "class turnover between selections"] == "40%"


def test_collapse_text_names_no_cause_when_the_variants_rest_on_two_seeds():
    """A variant above chance on 2 seeds has no interval, so the rule cannot read it: the text
    says the cause is not established (as the both-regimes table does), not that it stays open
    for lack of a variant that lifts the runs."""
    c = {"diverged": False, "at_chance": {"ucb": False, "uncertainty_ema": True}, "epochs": 8, "prune": 0.7,
         "uncertainty_ema_per_class_minus_as_specified": [0.35, float("nan"), float("nan"), stats.FEW_SEEDS]}
    text = report_c3.collapse_text(c)
    assert "Uncertainty EMA per class minus as specified: +35.0 points (fewer than 3 seeds: no interval). " in text
    assert text.endswith("Uncertainty EMA ended at chance as specified. The variants' runs have fewer than 3 seeds, "
                         "so their differences have no interval and the rules cannot name a cause: it is not "
                         "established at this regime.")
    c["uncertainty_ema_per_class_minus_as_specified"] = [0.05, -0.1, 0.2, "no detectable difference"]
    assert report_c3.collapse_text(c).endswith("the cause stays open.")


def test_speedup_table_comes_in_two_parts_that_each_fit_the_page():
    parts = {"measured": 3.31, "matched": 3.36, "period_1": 3.31, "period_10": 3.33, "ideal": 3.33,
             "full_s_per_pass": 15.3, "train_s_per_pass": 4.6, "scoring_s_per_pass": 0.0, "full_img_s": 3253.0,
             "train_img_s": 3200.0}
    summary = {"by_budget": {"8": {"speedup_parts_at_0.7": {"random_dynamic": parts, "ucb": None}}}}
    speed, measured = (report_c3_cost.speedup_table(summary, p) for p in ("speed-ups", "parts"))
    assert list(speed.index) == list(measured.index) == [(8, "random (dynamic)")]
    assert list(speed.columns) == ["measured speed-up", "at matched throughput", "re-selecting every pass",
                                  "every 10 passes", "ideal"]
    assert speed.iloc[0, 0] == "3.31×" and measured.loc[(8, "random (dynamic)"), "full data (img/s)"] == "3253"
    # At T = 10 an 8-pass run selects once, at the start (static pruning); a 14-pass run twice.
    assert speed.loc[(8, "random (dynamic)"), "every 10 passes"] == "3.33× (1 selection, at the start)"
    summary["by_budget"]["14"] = summary["by_budget"].pop("8")
    assert report_c3_cost.speedup_table(summary).iloc[0]["every 10 passes"] == "3.33× (2 selections)"
    assert len(speed.columns) <= 5 and len(measured.columns) <= 5
    with pytest.raises(ParameterError, match="parameter 'part' must be speed-ups or parts; got 'all'"):
        report_c3_cost.speedup_table(summary, "all")


def test_full_data_runs_get_images_seen_from_their_steps():
    """Fig. 5's full-data line: the scoring runs record no images seen, so it is steps x batch
    (every step a full batch); a run that records it keeps its own."""
    P = digits_profile()
    full = pd.DataFrame({"epoch": [1.0, 2.0], "step": [10, 20], "test_acc": [0.5, 0.6]})
    assert c3_picks._with_images_seen(P, full).images_seen.tolist() == [10 * P.batch_size, 20 * P.batch_size]
    own = full.assign(images_seen=[7.0, 9.0])
    assert c3_picks._with_images_seen(P, own).images_seen.tolist() == [7.0, 9.0]


def test_c3_summary_states_the_headline_from_its_cells_while_the_other_cells_compute(results_dir):
    from datadiet_core import headlines, summaries

    P = digits_profile(c3_rates=(0.7, 0.8), c3_epochs=(1, 2), eval_seeds=2,
                       c3_core=("random_static", "el2n_static", "random_dynamic", "ucb"), c3_side_rates=(0.7,),
                       c3_side_selectors=("epsilon_greedy",), c3_iterations=("ucb",), c3_variants=("random_first",),
                       c3_imbalanced_rates=(), c3_periods=())
    H = headlines.headline_profile("c3", P)
    assert {(g.selector, g.prune, g.epochs, g.budget, g.variant) for g in c3.grid(H)} == (
        {("full", 0.0, 2, "epochs", "")} | {(s, r, 2, "epochs", "") for s in ("random_static", "el2n_static", "random_dynamic")
                                            for r in (0.7, 0.8)})
    assert set(c3.grid(H)) < set(c3.grid(P))  # the same cells, so the same store entries
    s = store.Store.for_profile("smoke")
    sweep.sweep("c3", H, s.root, progress=None)
    partial = summaries.claim3(P, s.reader())
    h = partial["headline"]
    left = len(set(c3.grid(P)) - set(c3.grid(H)))  # every cell the headline does not read: none stored yet
    assert h["pending"] == {"c3_core": ["ucb"], "c3_side_selectors": ["epsilon_greedy"], "c3_iterations": ["ucb"],
                            "c3_variants": ["random_first"], "c3_epochs": [1], "c3_core_rates": [0.7, 0.8],
                            "runs": left, "c3_side_rates": [0.7], "command": runs.sweep_command("c3", P)}
    assert "collapse" not in partial and set(h["parts"]) == set(c3.PARTS)
    assert regimes.pending_text(h).startswith(
        "Stated from the headline's cells alone; not yet complete: UCB at 70% and 80% pruned; ε-greedy at 70% pruned; "
        "UCB under equal iterations at 70% pruned; the diagnosis of the loss-driven selectors (each run with its first "
        f"selection random); the shorter budget (1 epoch) ({left} runs: `python -m datadiet_core sweep c3 --profile smoke")
    # The diagnosis's own cells stored (as specified, ε-greedy's side cell among them, and in its
    # variant, at 70%): the section gains it, and the list loses it and UCB's cell at 70% and 2
    # epochs, read from the store; the side selector is named apart, as stored.
    D = P.replace(c3_core=("ucb",), c3_rates=(0.7,), c3_iterations=(), c3_epochs=(2,))
    sweep.sweep("c3", D, s.root, progress=None)
    diagnosed = summaries.claim3(P, s.reader())
    stored = len(set(c3.grid(D)) - set(c3.grid(H)))
    assert diagnosed["headline"]["pending"] == {
        **{k: v for k, v in h["pending"].items() if k not in ("c3_variants", "c3_side_selectors")},
        "runs": left - stored, "stored": {"c3_side_selectors": ["epsilon_greedy"]}}
    assert "diagnosis" not in regimes.pending_text(diagnosed["headline"])
    assert regimes.pending_text(diagnosed["headline"]).startswith(
        "Stated from the headline's cells alone; stored, compared once the rest is in: ε-greedy at 70% pruned; not yet "
        "complete: UCB at 70% and 80% pruned; UCB under equal iterations at 70% pruned; the shorter budget (1 epoch) (")
    # Stored core selectors carry the rates of their own cells, apart from those still to run.
    core = {"c3_core": ["uncertainty_ema"], "c3_core_rates": [0.9], "runs": 3, "command": "c",
            "stored": {"c3_core": ["ucb"], "c3_core_rates": [0.8, 0.9]}}
    assert regimes.pending_text({"pending": core}) == (
        "Stated from the headline's cells alone; stored, compared once the rest is in: UCB at 80% and 90% pruned; not yet "
        "complete: uncertainty EMA at 90% pruned (3 runs: `c`).")
    # Table 1's probes (this grid has none) are named apart from the variants they are built from.
    probes = {"pending": {"table1_probes": ["always_plus_random"], "runs": 3, "command": "c"}}
    assert regimes.pending_text(probes) == ("Stated from the headline's cells alone; not yet complete: Raju et al.'s "
                                            "Table 1 probes (the diagnosis of the loss-driven selectors is stored: see "
                                            "its table) (3 runs: `c`).")
    probes["pending"]["c3_variants"] = ["per_class"]
    assert "(each run per class); Raju et al.'s Table 1 probes (3 runs" in regimes.pending_text(probes)
    assert [p["at"]["effect"] for p in diagnosed["headline"]["parts"].values()] == [p["at"]["effect"] for p in h["parts"].values()]
    # Random dynamic (a headline cell) is shown beside the diagnosed selectors.
    assert set(diagnosed["collapse"]["acc"]) == {"ucb:as specified", "ucb:random_first", "uncertainty_ema:random_first",
                                                 "epsilon_greedy:as specified", "epsilon_greedy:random_first",
                                                 "random_dynamic:as specified"}
    assert diagnosed["collapse"]["diverged"] is False  # random dynamic's selections score nothing: NaN, not a divergence
    sweep.sweep("c3", P, s.root, progress=None)
    whole = summaries.claim3(P, s.reader())
    assert "pending" not in whole["headline"]
    assert all(whole["collapse"][k] == diagnosed["collapse"][k] for k in ("acc", "at_chance", "class_turnover"))
    assert [p["at"]["effect"] for p in whole["headline"]["parts"].values()] == [
        p["at"]["effect"] for p in h["parts"].values()]  # the headline's cells are the same runs


def test_table1_names_the_runs_its_probes_are_built_from_and_reads_one_decimal():
    """Raju et al.'s Table 1 beside ours: where the per-class runs exist the probes are built from
    them, and their rows say so; accuracies at one decimal, as every other table of the chapter."""
    runs = pd.DataFrame({"epochs": 8, "prune": 0.7, "selector": ["uncertainty_ema"] * 2 + ["always_plus_static"] * 2
                         + ["always_plus_random"] * 2, "test_acc": [0.10, 0.11, 0.60, 0.62, 0.64, 0.66]})
    variants = pd.DataFrame({"epochs": 8, "prune": 0.7, "selector": "uncertainty_ema", "variant": "per_class",
                             "test_acc": [0.45, 0.46]})
    t = report_c3.table1(runs, variants, 8)
    assert list(t.index) == ["uncertainty EMA, as specified", "uncertainty EMA, per class (the runs the two probes are built from)",
                             "always + static sometimes, from the per-class runs", "always + random sometimes, from the per-class runs"]
    assert t.loc["uncertainty EMA, as specified", "ours (%)"] == "10.5 ± 0.7" and t["seeds"].tolist() == [2, 2, 2, 2]
    alone = report_c3.table1(runs, variants.iloc[:0], 8)
    assert "always + static sometimes" in alone.index and len(alone) == 3
    assert report_c3.selection_counts_title("per_class") == "Selection counts, uncertainty EMA per class, 70% pruned"
    # How the probes were built is read from their runs' tags: the fallback when "always" overflows.
    tagged = runs.assign(fixed=["", "", "top-k final EMA score of per-class seed 0", "top-k final EMA score of per-class seed 1",
                                "half-budget of most selected rows of 2 per-class uncertainty-EMA runs", "half-budget x"])
    note = report_c3.table1_note(tagged, 8)
    assert "top 30% of its seed's source run" in note and "most selected rows of the source runs, half the kept budget" in note
    assert "always group of the source runs" in report_c3.table1_note(tagged.assign(fixed="always set of 2 runs"), 8)
    assert report_c3.table1_note(tagged[tagged.selector == "uncertainty_ema"], 8) == ""


def test_table1_source_runs_timed_slower_than_every_peer_are_flagged_and_the_probes_recosted():
    """The probes are charged their source runs' seconds; where those runs trained at under half
    the throughput of every run that selects the same way, the note says so and gives the probes'
    speed-ups with each source charged at uncertainty EMA's median seconds instead."""
    main = pd.DataFrame(_c3_frame({("full", 0.0): 0.8, ("uncertainty_ema", 0.7): 0.5, ("always_plus_static", 0.7): 0.6,
                                   ("always_plus_random", 0.7): 0.7}, 8, seeds=2))
    src_seconds = 90.0  # 300 images in 90 s: 3.3 img/s, against 10 for uncertainty EMA and UCB per class
    probe = main.selector.isin(["always_plus_static", "always_plus_random"])
    main.loc[probe, "wallclock_s"] += np.where(main[probe].selector == "always_plus_static", 1, 2) * src_seconds
    variants = pd.DataFrame({"epochs": 8, "prune": 0.7, "seed": [1000, 1001] * 2, "variant": "per_class",
                             "selector": ["uncertainty_ema"] * 2 + ["ucb"] * 2, "images_seen": 300.0,
                             "train_seconds": [src_seconds, src_seconds, 30.0, 30.0]})
    runs = c3.Runs(main, main.iloc[:0], main.iloc[:0], variants, main.iloc[:0])
    t = c3_picks.table1_source_timing(runs, 8)
    assert t["slowed"] and t["plain_seconds"] == pytest.approx(30.0)
    assert set(t["peers"]) == {("uncertainty_ema", ""), ("ucb", "per_class")}
    assert t["probes"]["always_plus_static"] == pytest.approx({"charged": 100 / 120, "at_plain": 100 / 60})
    assert t["probes"]["always_plus_random"] == pytest.approx({"charged": 100 / 210, "at_plain": 100 / 90})
    note = report_c3_cost.table1_cost_note(t)
    assert "trained at 3 and 3 img/s" in note and "10 and 10 for UCB per class" in note
    assert "always + static sometimes 1.67× (as charged, 0.83×)" in note and "the charge decides" in note
    # Sources that kept pace are charged as timed, and a profile without probes says nothing.
    fast = c3.Runs(main, main.iloc[:0], main.iloc[:0], variants.assign(train_seconds=30.0), main.iloc[:0])
    assert not c3_picks.table1_source_timing(fast, 8)["slowed"]
    assert report_c3_cost.table1_cost_note(c3_picks.table1_source_timing(fast, 8)).endswith("charged them as timed.")
    assert c3_picks.table1_source_timing(c3.Runs(main[~probe], *[main.iloc[:0]] * 2, variants, main.iloc[:0]), 8) == {}


def test_the_class_count_of_c3s_static_subsets_counts_only_those_its_grid_trains():
    """airbench's C3 grid trains no static forgetting subset, so its class count leaves it out."""
    assert c2_picks.c3_static(profiles.resolve_profile("cpu")) == (
        "keep_highest: el2n_early", "keep_highest: forgetting", "random")
    assert c2_picks.c3_static(profiles.resolve_profile("airbench")) == ("keep_highest: el2n_early", "random")
