import numpy as np
import pandas as pd
import pytest
import torch

from datadiet_core import data, experiments, profiles, scores, store, train


def digits_profile(**kw):
    base = dict(dataset="digits", train_size=None, test_size=None, epochs=2, batch_size=100, augment=False,
                scoring_seeds=2, inits=3, c1_images=None, c1_resnet_images=8)
    return profiles.resolve_profile("smoke", **{**base, **kw})


def test_init_scores_come_from_the_training_runs_own_initialisation(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    rec = experiments.model_scores(P, s, seed=1, when=0.0, split="train")
    # The scoring run's stored init checkpoint gives the same GraNd.
    run = experiments.scoring_runs(P, s)[1]
    data = train.device_data(P)
    model = train.load_state(train.init_model(P.model, data, 1), train.checkpoint_state(run, 0.0)).eval()
    ref = scores.grand(model, data.x_train, data.y_train).numpy()
    np.testing.assert_allclose(rec.arrays["grand"], ref, rtol=1e-5)
    assert rec.arrays["grand"].dtype == np.float32 and rec.arrays["el2n"].shape == (1500,)
    # Trained checkpoints are read from the run; the end differs from the start.
    end = experiments.model_scores(P, s, seed=1, when=1.0, split="test")
    start = experiments.model_scores(P, s, seed=1, when=0.0, split="test")
    assert not np.allclose(end.arrays["el2n"], start.arrays["el2n"])
    # A second call reads the store.
    again = experiments.model_scores(P, s, seed=1, when=0.0, split="train")
    assert again.manifest["created"] == rec.manifest["created"]


def test_per_seed_keeps_one_row_per_model(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    g = experiments.per_seed(P, s, range(3), 0.0, "test", "grand")
    assert g.shape == (3, 297) and not np.allclose(g[0], g[1])


def test_rho_vs_k_grows_as_noise_is_averaged_away():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=2000)
    per_model = signal + rng.normal(scale=2.0, size=(8, 2000))
    df = experiments.rho_vs_k(per_model, signal, n_boot=50)
    assert list(df.K) == list(range(1, 9))
    assert df.rho.iloc[-1] > df.rho.iloc[0] + 0.2
    assert (df.lo <= df.rho).all() and (df.rho <= df.hi).all()


def test_lognormal_fit_recovers_its_parameters():
    rng = np.random.default_rng(1)
    fit = experiments.lognormal_fit(np.exp(rng.normal(0.7, 0.3, size=20000)))
    assert fit["mu"] == pytest.approx(0.7, abs=0.01) and fit["sigma"] == pytest.approx(0.3, abs=0.01)
    assert fit["ks"] < 0.02


def test_extremes_per_class():
    score = np.array([5.0, 1.0, 3.0, 9.0, 0.5, 2.0])
    y = np.array([0, 0, 1, 1, 0, 1])
    lo, hi = experiments.extremes_per_class(score, y, 2)
    assert lo.tolist() == [4, 5] and hi.tolist() == [0, 3]


def test_linear_identity_gap_is_at_machine_precision(results_dir):
    assert experiments.linear_identity_gap(digits_profile(), images=200) < 1e-12


def test_c1_verdict_text_follows_the_numbers():
    summary = {"verdict": {"holds_for_linear": True, "holds_for_fastnet": False, "holds_for_resnet18": True,
                           "holds_on_fashion_mnist_for_fastnet": False, "fades_with_training": True},
               "strong_threshold": 0.8, "model": "fastnet", "k_inits": 10, "k_trained": 4,
               "spearman_by_model": {"linear": 0.99, "fastnet": 0.41, "resnet18": 0.95},
               "spearman_by_model_ci": {"linear": [0.98, 0.995], "fastnet": [0.40, 0.42], "resnet18": [0.94, 0.96]},
               "images_by_model": {"linear": 10000, "fastnet": 50000, "resnet18": 1000},
               "spearman_fashion_mnist": {"fastnet": 0.45}, "spearman_end": -0.06}
    text = experiments.c1_verdict_text(summary)
    assert "fastnet (50,000 training images): ρ = 0.410 [0.400, 0.420], does not hold" in text
    assert "resnet18 (1,000 training images): ρ = 0.950 [0.940, 0.960], holds" in text
    assert "holds for linear, resnet18 but not for fastnet" in text
    assert "fastnet ρ = 0.450, does not hold" in text and "falls with training" in text


def test_static_pruning_runs_keep_the_right_subset_for_a_fixed_number_of_steps(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    sc = experiments.c2_scores(P, s)
    assert set(sc) | {"random"} == set(experiments.C2_SCORES)
    assert all(v.shape == (1500,) for v in sc.values())
    # The restore-bug variant is GraNd at the end of training, not at initialisation.
    assert not np.allclose(sc["grand_init_restore_bug"], sc["grand_init"])
    keep = experiments.pruned_subset("el2n_early", sc, 1500, 0.7, seed=0)
    assert len(keep) == 450 and sc["el2n_early"][keep].min() >= np.sort(sc["el2n_early"])[-450]
    rec = experiments.pruned_run(P, s, "el2n_early", sc, 0.7, eval_index=0)
    full = experiments.scoring_runs(P, s)[0]
    assert rec.metrics["steps"] == full.metrics["steps"] and rec.metrics["n_train"] == 450
    assert rec.config["seed"] == experiments.EVAL_SEED_OFFSET
    r1 = experiments.pruned_subset("random", sc, 1500, 0.5, seed=1)
    assert len(r1) == 750 and not np.array_equal(r1, experiments.pruned_subset("random", sc, 1500, 0.5, seed=2))
    with pytest.raises(Exception, match="parameter 'prune'"):
        experiments.pruned_subset("random", sc, 1500, 1.0, seed=0)
    with pytest.raises(Exception, match="parameter 'score'"):
        experiments.pruned_subset("loss", sc, 1500, 0.5, seed=0)


def test_c2_grid_covers_the_protocol():
    P = profiles.resolve_profile("cpu")
    grid = experiments.c2_grid(P)
    main = [g for g in grid if g.rule == "keep_highest" and g.epochs is None]
    assert {(g.score, g.prune) for g in main} == {(s, f) for s in experiments.C2_SCORES for f in (0.3, 0.5, 0.7)}
    assert len(main) == 7 * 3 * P.eval_seeds
    assert {g.rule for g in grid} == set(experiments.C2_RULES)
    regime = [g for g in grid if g.epochs is not None]
    assert {g.epochs for g in regime} == set(P.regime_epochs) - {P.epochs}
    assert all(g.prune == experiments.REGIME_PRUNE for g in regime)
    assert len(set(grid)) == len(grid)  # no run twice
    assert {g.eval_index for g in grid} == set(range(P.eval_seeds))
    # 4 scoring runs of 8 epochs; 42 + 8 evaluation runs of 8; 10 of 2 and 10 of 4.
    assert experiments.c2_training_epochs(P) == 4 * 8 + 50 * 8 + 10 * 2 + 10 * 4
    assert experiments.c2_regime_share(P) == pytest.approx(60 / 492)


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
        eff.update({(s, "keep_highest", 0.5, ep): (d if s == "el2n_early" else 0.0) for s in experiments.C2_REGIME_SCORES})
    runs = _synthetic_runs(eff)
    diffs = experiments.c2_differences(runs)
    s = experiments.c2_summary(P, runs, diffs)
    v = s["verdict"]
    assert v["el2n_early_beats_random"] and not v["el2n_early_below_random"]
    assert v["grand_init_below_random"] and not v["grand_init_beats_random"]
    assert not v["grand_early_beats_random"] and not v["grand_early_below_random"]
    assert v["forgetting_below_random"] and not v["forgetting_beats_random"]
    assert v["input_norm_like_grand_init"]
    assert v["restore_bug_like_late_score"]
    assert v["hard_beats_random_at_some_budget"]
    assert v["keep_easiest_beats_keep_hardest"] and not v["stratified_beats_keep_hardest"]
    assert set(s["acc_mean"]) == set(experiments.C2_SCORES) | {"full"}
    assert set(s["acc_mean"]["random"]) == {"0.3", "0.5", "0.7"}
    assert s["regime"]["el2n_early"]["4"] == pytest.approx(-0.1, abs=0.01)
    assert set(s["regime"]["el2n_early"]) == {"4", "8", "16"}
    text = experiments.c2_verdict_text(s)
    assert "EL2N@10% beats random" in text and "GraNd@init is below random" in text and "at 16 epochs" in text
    # No effect anywhere: nothing beats or loses, and the restore bug is not "like a late score".
    flat = _synthetic_runs({k: 0.0 for k in eff})
    v0 = experiments.c2_summary(P, flat, experiments.c2_differences(flat))["verdict"]
    assert not any(v0[k] for k in v0 if k != "input_norm_like_grand_init") and v0["input_norm_like_grand_init"]


def test_c2_starvation_text_counts_classes():
    kept = pd.DataFrame({"selection": ["a"] * 3 + ["b"] * 3, "class": ["x", "y", "z"] * 2,
                         "count": [100, 100, 100, 290, 10, 0]})
    text = experiments.c2_starvation_text(kept)
    assert "b keeps less than half" in text and "y (10)" in text and "z (0)" in text and "a keeps" not in text


def test_c2_sweep_end_to_end_and_resumable(results_dir):
    P = digits_profile(prune_fractions=(0.5,), eval_seeds=2, regime_epochs=(1, 2))
    s = store.Store.for_profile("smoke")
    runs = experiments.c2_results(P, s)
    assert len(runs) == len(experiments.c2_grid(P)) + P.scoring_seeds
    assert (runs[runs.rule == "keep_highest"].n_train.isin([750])).all()
    assert set(runs.epochs) == {1, 2}
    n_entries = len(s.entries("train"))
    again = experiments.c2_results(P, s)
    assert len(s.entries("train")) == n_entries  # nothing recomputed
    assert again.test_acc.tolist() == runs.test_acc.tolist()
    summary = experiments.c2_summary(P, runs, experiments.c2_differences(runs))
    assert all(isinstance(b, bool) for b in summary["verdict"].values())
    kept = experiments.c2_kept_per_class(P, experiments.c2_scores(P, s))
    assert (kept.groupby("selection")["count"].sum() == 750).all()
    assert experiments.c2_compute_seconds(P, s, runs) > 0


def test_c3_runs_cost_what_they_prune_and_record_their_selections(results_dir):
    P = digits_profile(c3_rates=(0.7,), c3_epochs=(2,), eval_seeds=1)
    s = store.Store.for_profile("smoke")
    runs = experiments.c3_results(P, s).set_index("selector")
    assert set(runs.index) == {"full", *experiments.C3_SELECTORS, "always_plus_static", "always_plus_random"}
    full = runs.loc["full", "images_seen"]
    for sel in experiments.C3_STATIC + experiments.C3_DYNAMIC:
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
    scoring = [r.metrics["train_seconds"] for r in experiments.scoring_runs(P, s)]
    assert charged["forgetting_static"] == pytest.approx(sum(scoring))  # every scoring run in full
    passes = sum(experiments.model_scores(P, s, k, P.early, "train").manifest["wall_seconds"] for k in range(2))
    assert charged["el2n_static"] == pytest.approx(0.1 * sum(scoring) + passes)  # their first 10% + scoring
    rec = experiments.dynamic_run(P, s, "ucb", 0.7, 0, 2)
    counts = rec.arrays["selection_counts"]
    assert rec.metrics["checkpoints"] == 2 and counts.sum() == 2 * 450 and counts.max() <= 2
    assert rec.arrays["final_score"].shape == (1500,)
    static = experiments.dynamic_run(P, s, "el2n_static", 0.7, 0, 2).arrays["selection_counts"]
    assert set(np.unique(static)) == {0, 2}  # the same rows both times
    summary = experiments.c3_summary(P, experiments.c3_results(P, s))
    assert set(summary["acc_mean"]) >= set(experiments.C3_SELECTORS) | {"full"}
    assert set(summary["wallclock_s"]["ucb"]) == {"0.7"} and summary["wallclock_s"]["full"] > 0
    assert all(isinstance(v, bool) for v in summary["verdict"].values())
    # Re-selecting every 2 passes: one selection in 2 passes, a store entry of its own, and the
    # main grid's entry keeps its key (no period in its configuration).
    slow = experiments.dynamic_run(P, s, "ucb", 0.7, 0, 2, period=2)
    assert slow.metrics["checkpoints"] == 1 and slow.arrays["selection_counts"].max() == 1
    assert slow.config["c3"]["period_passes"] == 2 and "period_passes" not in rec.config["c3"]
    assert slow.path != rec.path
    swept = experiments.c3_results(P, s, period_sweep=True)
    assert set(swept.selector) == set(experiments.PERIOD_SELECTORS) and set(swept.period) == {2}
    assert set(experiments.c3_results(P, s).period) == {1}
    with pytest.raises(Exception, match="parameter 'period'"):
        experiments.dynamic_run(P, s, "ucb", 0.7, 0, 2, period=0)
    with pytest.raises(Exception, match="parameter 'selector'"):
        experiments.dynamic_run(P, s, "loss", 0.7, 0)
    with pytest.raises(Exception, match="parameter 'rate'"):
        experiments.dynamic_run(P, s, "ucb", 1.0, 0)


def test_c3_grid_runs_the_core_everywhere_and_the_rest_where_the_profile_says():
    P = profiles.resolve_profile("cpu")
    grid = experiments.c3_grid(P)
    assert len(grid) == 2 * len({(g.selector, g.rate, g.epochs, g.imbalance, g.period) for g in grid})  # two seeds each
    cells = {(g.selector, g.rate, g.epochs) for g in grid if g.imbalance == "none"}
    # The period sweep: the loss-driven selectors at 70% and the longest budget, every T passes
    # (none in the cpu profile; the main period itself adds no run).
    assert all(g.period == 0 for g in grid)
    swept = experiments.c3_grid(P.replace(c3_periods=[1, 2, 4]))
    assert {(g.selector, g.rate, g.epochs, g.period) for g in swept if g.period} == {
        (s, 0.7, 8, T) for s in experiments.PERIOD_SELECTORS for T in (2, 4)}
    assert len(swept) == len(grid) + 2 * 2 * 2
    for sel in P.c3_core:
        assert {r for s, r, e in cells if s == sel and e == 8} == set(P.c3_rates)
        assert {r for s, r, e in cells if s == sel and e == 4} == {0.7, 0.8, 0.9}  # aggressive rates only
    for sel in set(experiments.C3_SELECTORS) - set(P.c3_core):
        assert {(r, e) for s, r, e in cells if s == sel} == {(0.7, 8)}
    assert {("full", 0.0, 8), ("full", 0.0, 4), ("always_plus_static", 0.7, 8), ("always_plus_random", 0.7, 8)} <= cells
    # Table 1 comes after the uncertainty-EMA runs it is built from; the longest budget first.
    first_t1 = min(i for i, g in enumerate(grid) if g.selector.startswith("always"))
    assert max(i for i, g in enumerate(grid) if g.selector == "uncertainty_ema") < first_t1
    assert grid[0].epochs == 8
    imbalanced = {(g.selector, g.rate, g.epochs) for g in grid if g.imbalance == "raju_table2"}
    assert imbalanced == {("full", 0.0, 8)} | {(s, r, 8) for s in experiments.IMBALANCED_SELECTORS for r in (0.5, 0.7)}
    paper = experiments.c3_grid(profiles.resolve_profile("paper"))
    assert {(g.selector, g.rate) for g in paper if g.epochs == 200} >= {(s, r) for s in experiments.C3_SELECTORS
                                                                       for r in (0.3, 0.5, 0.7, 0.8, 0.9)}


def _c3_frame(cells: dict, epochs: int, seconds: float = 100.0) -> list[dict]:
    """Synthetic runs: two seeds per (selector, rate) with the given mean accuracy, +-0.002."""
    rows = []
    for (sel, rate), acc in cells.items():
        for k, d in enumerate((-0.002, 0.002)):
            t = seconds * (1 - rate)
            rows.append({"selector": sel, "rate": rate, "epochs": epochs, "seed": 1000 + k, "test_acc": acc + d,
                         "images_seen": 1000 * (1 - rate), "train_seconds": t, "scoring_seconds": 0.0,
                         "checkpoints": 4, "wallclock_s": t})
    return rows


def test_c3_verdicts_follow_their_rules_and_say_not_run_when_a_comparison_is_missing():
    P = profiles.resolve_profile("cpu")
    core = {("full", 0.0): 0.80}
    for r in (0.7, 0.9):
        core.update({("random_dynamic", r): 0.70, ("random_static", r): 0.60, ("el2n_static", r): 0.50,
                     ("forgetting_static", r): 0.55, ("ucb", r): 0.70})
    side = {(s, 0.7): 0.70 for s in ("uncertainty_ema", "epsilon_greedy", "el2n_epsilon_static", "infobatch",
                                      "selective_backprop", "random_backprop")}
    side[("ucb", 0.7)] = 0.75  # UCB beats uncertainty EMA at 70% and ties random dynamic at 90%
    runs = pd.DataFrame(_c3_frame({**core, **side}, 8) + _c3_frame(core, 4))
    s = experiments.c3_summary(P, runs)
    v8, v4 = s["by_budget"]["8"]["verdict"], s["by_budget"]["4"]["verdict"]
    assert v8["random_dynamic_beats_static"] is True and v8["random_dynamic_beats_random_static"] is True
    assert v8["ucb_beats_uncertainty_ema"] is True and v8["epsilon_greedy_beats_uncertainty_ema"] is False
    assert v8["ucb_beats_random_dynamic"] is True  # above at 70%, indistinguishable at 90%
    assert v4["ucb_beats_uncertainty_ema"] is None and v4["random_dynamic_beats_static"] is True
    assert v8["wallclock_saving_real"] is True and v8["speedup_goal_met"] is True  # 1/0.3 with no scoring
    assert s["speedup_at_0.7"]["ucb"] == pytest.approx(1 / 0.3)
    assert s["acc_mean"]["ucb"] == {"0.7": pytest.approx(0.75), "0.9": pytest.approx(0.70)}
    text = experiments.c3_verdict_text(s)
    assert "At 4 epochs" in text and "UCB was not run against uncertainty EMA" in text
    assert "At 8 epochs" in text and "UCB beats uncertainty EMA" in text
    table = experiments.c3_rate_table(runs, 8)
    assert table.loc["UCB", "minus random dynamic (pp) [95% CI]"].startswith("+5.0")
    from datadiet_core import book

    row = [ln for ln in book.verdict_table({"c3": s}).splitlines() if ln.startswith("| [C3]")][0]
    assert "ucb beats uncertainty ema: **yes**" in row
    four = book.verdict_table({"c3": {**s["by_budget"]["4"], "scale": "4 epochs"}})
    assert "ucb beats uncertainty ema: not run" in four


def test_imbalanced_training_set_follows_raju_table_2_and_keeps_old_store_keys():
    P = digits_profile(imbalance="raju_table2")
    base = train.device_data(digits_profile())
    n = np.bincount(base.y_train.numpy())
    d = train.device_data(P)
    assert np.bincount(d.y_train.numpy()).tolist() == [int(round(data.RAJU_IMBALANCE[c] * n[c])) for c in range(10)]
    assert np.all(np.diff(d.train_index) > 0) and len(d.y_test) == len(base.y_test)  # order kept, test balanced
    assert "imbalance" not in train.run_config(digits_profile(), 0)  # entries stored before the field keep their keys
    assert train.run_config(P, 0)["imbalance"] == "raju_table2"
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
    s = experiments.c3_imbalanced_summary(P, runs)
    assert s["verdict"] == {"ucb_beats_random_dynamic": True, "epsilon_greedy_beats_random_dynamic": False,
                            "uncertainty_ema_beats_random_dynamic": False, "ucb_beats_uncertainty_ema": True}
    assert s["acc_mean"]["ucb"]["0.7"] == pytest.approx(0.55) and s["acc_mean"]["full"] == pytest.approx(0.7)
    assert 0 < s["n_train"] < train.device_data(P).n_train
    diffs = experiments.c3_differences(runs, E, experiments.IMBALANCED_COMPARISONS)
    assert len(diffs) == 8 and set(diffs.prune) == {0.5, 0.7}


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
    sweep = pd.DataFrame(_c3_frame({("uncertainty_ema", 0.7): 0.20, ("ucb", 0.7): 0.60}, 8)).assign(period=4)
    sweep["scoring_seconds"] = sweep.train_seconds / 4
    sweep["train_seconds"] *= 5 / 4
    s = experiments.c3_summary(P, main, periods=sweep)
    sw = s["period_sweep"]
    assert sw["main_period"] == 1 and [(r["selector"], r["period"]) for r in sw["rows"]] == [
        ("uncertainty_ema", 1), ("uncertainty_ema", 4), ("ucb", 1), ("ucb", 4)]
    assert sw["verdict"] == {"uncertainty_ema_every_4_beats_every_1": False, "ucb_every_4_beats_every_1": True,
                             "speedup_goal_met_every_4": True}
    ucb4 = sw["rows"][3]
    assert ucb4["diff"] == pytest.approx(0.30) and ucb4["lo"] > 0
    # Matched: (images of full data / images trained on) x share training = (1/0.3) x 0.8.
    assert ucb4["speedup_matched"] == pytest.approx(0.8 / 0.3)
    assert ucb4["speedup_measured"] == pytest.approx(100 / (30 * 5 / 4))
    assert sw["rows"][2]["speedup_matched"] == pytest.approx(0.5 / 0.3)  # every pass: half the time scoring
    assert s["verdict"]["speedup_goal_met"] is False and s["verdict"]["ucb_every_4_beats_every_1"] is True
    text = experiments.c3_verdict_text(s)
    assert "every 4 passes beats every pass for UCB" in text
    assert "every 4 passes does not beat every pass for uncertainty EMA" in text
    assert "UCB reaches the 2.5× goal, measured and at matched throughput, re-selecting every 4 passes." in text
    table = experiments.c3_period_table(s)
    assert table.loc[("UCB", 4), "minus every pass (pp) [95% CI]"].startswith("+30.0")
    assert table.loc[("UCB", 1), "minus every pass (pp) [95% CI]"] == "(main grid)"


def test_c3_period_plan_says_what_runs():
    cpu = profiles.resolve_profile("cpu")
    assert experiments.c3_period_plan(cpu).startswith("This profile runs no such sweep")
    assert experiments.c3_period_plan(cpu.replace(c3_periods=[4, 2])) == (
        "We repeat that sweep at 70% pruned and 8 epochs: uncertainty EMA and UCB re-selecting every 2 or 4 "
        "passes, 2 seeds each, against the main grid's one pass.")


def test_matched_speedup_removes_throughput_drift_between_runs():
    full = pd.DataFrame({"selector": ["full"], "images_seen": [1000.0], "train_seconds": [50.0],
                         "scoring_seconds": [0.0]})
    run = pd.DataFrame({"selector": ["x"], "images_seen": [250.0], "train_seconds": [20.0], "scoring_seconds": [5.0]})
    # 4x fewer images, a quarter of the time scoring: 3x, whatever the two runs' throughputs were.
    assert experiments.matched_speedup(pd.concat([full, run]), run) == pytest.approx(3.0)
    assert experiments.goal_met([3.0, 2.5]) and not experiments.goal_met([3.0, 2.49])
