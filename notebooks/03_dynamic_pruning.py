# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # C3: dynamic against static pruning
#
# Static pruning scores the data once and trains on a fixed subset. Raju, Daruwalla and Lipasti
# (2021) re-select the subset every $T_p$ epochs from what the model currently finds hard
# (Algorithm 1). They report three things. At aggressive pruning rates this beats every static
# subset, even when the re-selection is uniformly random. It saves wall-clock time even after
# paying for its own scoring passes, while static methods pay for whole training runs to get
# their scores. And the reason is "sometimes" samples: examples that matter only during part of
# training, which no fixed subset can serve.
#
# This chapter runs their selectors beside the static ones of the previous chapter and three
# later per-epoch or per-batch methods. Every run takes the same number of epochs over its kept
# subset, so the cost of a run falls with the pruning rate.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | paper; any profile field can be passed too, e.g. papermill -p eval_seeds 4
force = False    # recompute instead of reading the result store
engine = "local"  # where the grid runs: local (this kernel) or ray (see the Reproduce chapter)

# %% tags=["remove-cell"]
from IPython.display import Markdown, display
from myst_nb import glue

from datadiet_core import bank, c2, c3, c3_picks, dynamic, plots, profiles, regimes, report, selection, sweep
from datadiet_core.store import Store, write_summary

plots.enable_offline()
P = profiles.from_namespace(globals())
store = Store.for_profile(P.name)

# %% tags=["remove-cell"]
E = max(P.c3_epochs)
short = sorted(P.c3_epochs)[:-1]
side = [s for s in selection.SELECTORS if s not in P.c3_core]
glue("model", P.model, display=False)
glue("epochs", E, display=False)
glue("short", ", ".join(str(e) for e in short) or "none", display=False)
glue("seeds", P.eval_seeds, display=False)
glue("side_seeds", profiles.side_seeds(P), display=False)
glue("rates", ", ".join(f"{r:.0%}" for r in P.c3_rates), display=False)
glue("core", ", ".join(report.label(s) for s in P.c3_core), display=False)
glue("side", ", ".join(report.label(s) for s in side) or "none", display=False)
glue("side_rates", ", ".join(f"{r:.0%}" for r in P.c3_side_rates), display=False)
glue("n_runs", len(c3.grid(P)), display=False)
glue("period", dynamic.period_passes(E), display=False)
glue("alpha", selection.PARAMS["alpha"], display=False)
glue("epsilon", selection.PARAMS["epsilon"], display=False)
glue("c", selection.PARAMS["c"], display=False)
glue("period_plan", report.c3_period_plan(P), display=False)

# %% [markdown]
# ## Selectors
#
# | selector | kind | what it keeps |
# |---|---|---|
# | random (static) | static | one random subset for all of training |
# | EL2N@10% (static), forgetting (static) | static | the highest-scoring subset, scores from the previous chapter's scoring runs |
# | EL2N@10% + ε-greedy (static) | static score, re-drawn | $(1-\varepsilon)k$ by EL2N, $\varepsilon k$ at random, re-drawn every period (Raju App. B) |
# | random (dynamic) | dynamic | $k$ samples uniformly at random, re-drawn every period |
# | uncertainty EMA | dynamic | the $k$ highest EMA of the loss, $s_{ema} = \alpha s + (1-\alpha) s_{prev}$ (eqs. 1-2) |
# | ε-greedy | dynamic | $(1-\varepsilon)k$ by $s_{ema}$, $\varepsilon k$ at random from the rest |
# | UCB | dynamic | the $k$ highest $s_{ema} + c\,\mathrm{var}$, with the running variance of eq. 3 |
# | InfoBatch | per pass | drops each below-mean-loss sample with probability $r$ (= the rate), up-weights the kept ones by $1/(1-r)$, full data for the last 12.5% |
# | Selective-Backprop | per batch | back-propagates a sample with probability $q^\beta$, $q$ its loss percentile |
# | Random-Backprop | per batch | back-propagates each sample with probability $1 - $ rate |
#
# {doc}`../book/methods` gives the equations. Dynamic selectors re-select every
# {glue:text}`period` pass(es) over the kept subset. The paper's period is 5% of training (10 of
# 200 epochs), which rounds to one pass at our budgets. Before each re-selection a scoring pass
# computes the current model's loss on every training sample, and that pass counts in the run's
# time. α = {glue:text}`alpha` as in the paper. The paper does not give ε or c, so we use
# ε = {glue:text}`epsilon` and c = {glue:text}`c`.
#
# **Runs.** The main comparison takes {glue:text}`epochs` epochs over the kept subset of the
# {glue:text}`model` network. That is the longest budget of the static-pruning chapter's map,
# the one closest to the papers' regime. Random dynamic, the three static selectors and full data
# get {glue:text}`seeds` fresh seeds at the aggressive rates (the cells the headline rests on);
# every other cell gets {glue:text}`side_seeds`.
# {glue:text}`core` run at every pruning rate ({glue:text}`rates`). The other selectors,
# {glue:text}`side`, run at {glue:text}`side_rates` only. The shorter budget
# ({glue:text}`short` epochs) repeats the first group at the aggressive rates (70% and up).
# That makes {glue:text}`n_runs` runs. Every selector at every rate would take about twice as
# long on our 2-core CPU; the `paper` profile runs them all. Everything goes through the result
# store:

# %%
sweep.sweep("c3", P, store.root, engine=engine, progress=None, force=force)  # computes what is missing
all_runs = c3.load(P, store)  # then reads every run back: the main grid, imbalanced, period sweep
runs = all_runs.main

# %% tags=["remove-cell"]
summary = c3.summary(P, all_runs)
write_summary(P.name, "c3", summary)
acc = c3.accuracy(runs, E)
glue("full_acc", f"{summary['acc_mean']['full'] * 100:.1f}%", display=False)

# %% [markdown]
# ## Accuracy against the pruning rate
#
# At {glue:text}`epochs` epochs (the dashed line is full data, {glue:text}`full_acc`). A
# selector run at one rate only appears as a single point:

# %% tags=["remove-input"]
plots.accuracy_vs_pruned(acc, summary["acc_mean"]["full"], f"Static and dynamic pruning ({P.model}, {E} epochs)")

# %% [markdown]
# Every selector at 70% pruned, the rate of Raju et al.'s Table 1. Differences are to random
# dynamic, with Welch's 95% interval from the seeds of the two cells ({doc}`../book/methods`):

# %% tags=["remove-input"]
report.c3_prune_table(runs, E, c3.AGGRESSIVE)

# %% tags=["remove-cell"]
glue("headline", report.headline_sentence("c3", summary["headline"]), display=False)
kept90 = c2.kept_per_class(P, bank.score_bank(P, store), prune=max(P.c3_rates))
kept90 = kept90[kept90.selection.isin(["keep_highest: el2n_early", "keep_highest: forgetting", "random"])]
glue("static_starved", report.c2_starvation_text(kept90), display=False)
glue("max_rate", f"{max(P.c3_rates):.0%}", display=False)

# %% [markdown]
# The comparisons behind the verdicts, at every rate where both selectors ran. An interval
# that crosses zero is no evidence either way:

# %% tags=["remove-input"]
plots.difference_to_random(c3.differences(runs, E), f"Differences in accuracy, {E} epochs",
                           y_title="difference in test accuracy (percentage points)", legend="comparison")

# %% [markdown]
# {glue:text}`headline`
#
# The static selectors fall far below random at the most aggressive rates because a
# score-ordered subset of the whole set keeps few examples of some classes. At
# {glue:text}`max_rate` pruned: {glue:text}`static_starved`

# %% [markdown]
# ## What the loss-driven selectors train on
#
# A loss-driven selector keeps the examples that the current model gets most wrong. Here is the
# training accuracy on the current selection, pass by pass, at 70% pruned, beside random
# dynamic:

# %% tags=["remove-input"]
plots.accuracy_vs_images(c3_picks.histories(P, store, c3.AGGRESSIVE, c3.LOSS_DRIVEN),
                         "Training accuracy on the current selection, 70% pruned", y="train_acc",
                         y_title="training accuracy on the selection (%)")

# %% [markdown]
# These are the classes in the selection, averaged over checkpoints and seeds:

# %% tags=["remove-input"]
per_class = c3_picks.selected_per_class(P, store, c3.AGGRESSIVE, c3.LOSS_DRIVEN)
plots.kept_per_class(per_class, "Examples per class in the selection, 70% pruned", y_title="selector",
                     count_title="examples per checkpoint (count)")

# %% tags=["remove-cell"]
ema = per_class[per_class.selection == "uncertainty_ema"]["count"]
glue("ema_acc", f"{summary['acc_mean']['uncertainty_ema']['0.7'] * 100:.1f}%", display=False)
glue("ema_min", int(ema.min()), display=False)
glue("ema_max", int(ema.max()), display=False)
glue("even", int(round(ema.sum() / len(ema))), display=False)

# %% [markdown]
# At 70% pruned, uncertainty EMA ends at {glue:text}`ema_acc` test accuracy. Its selection holds
# between {glue:text}`ema_min` and {glue:text}`ema_max` examples of a class on average, where an
# even split would hold {glue:text}`even`.
#
# ## Why the loss-driven selectors collapse
#
# A network near 10% accuracy predicts about one class, so a run that ends there is a defect
# until shown otherwise. We stored, at every re-selection, the classes in the selection and
# what a divergence would show: the largest loss of the scoring pass, the largest weight and the
# range of the BatchNorm running variances. Then we ran uncertainty EMA and UCB at 70% pruned in
# a variant that differs from Raju et al.'s method in one respect only: *per class* keeps the
# highest scores in proportion within every class. The class shares of every selection, seed
# 1000 ({glue:text}`epochs` epochs, re-selection after every pass):

# %% tags=["remove-input"]
shares = c3_picks.class_shares(P, store)
plots.class_shares(shares[shares.seed == shares.seed.min()],
                   f"Share of each class in every selection, 70% pruned, seed {shares.seed.min()}")

# %% [markdown]
# The checks per run, and the final accuracy of each variant:

# %% tags=["remove-input"]
checks = c3_picks.divergence_checks(P, store)
report.c3_collapse_table(checks)

# %% tags=["remove-cell"]
summary["collapse"] = c3_picks.collapse_summary(P, checks)
write_summary(P.name, "c3", summary)
glue("collapse", report.c3_collapse_text(summary["collapse"]), display=False)

# %% [markdown]
# {glue:text}`collapse`

# %% [markdown]
# ## What it costs
#
# Seconds per run on this machine, scoring passes included. On the right, static selectors are
# also charged the training that produced their scores (Raju Fig. 2b): EL2N the first 10% of
# every scoring run plus its scoring pass, forgetting every scoring run in full.

# %% tags=["remove-input"]
plots.wallclock_vs_accuracy(acc, summary["acc_mean"]["full"], summary["wallclock_s"]["full"],
                            "Accuracy against wall-clock per run")

# %% [markdown]
# Our performance target: at 70% pruned, random dynamic and UCB should finish at least 2.5×
# faster than full data, scoring included (the ideal is 1/0.3 = 3.3×). The first
# table gives the speed-ups; the second splits each run into training per pass over the kept
# 30% and one scoring pass. From those measured parts the first also gives the speed-up a
# re-selection every T passes would reach. T = 10 is the paper's spacing (10 epochs). At our
# budgets, 5% of training rounds to T = 1.

# %% tags=["remove-input"]
report.c3_speedup_table(summary, "speed-ups")

# %% tags=["remove-input"]
report.c3_speedup_table(summary, "parts")

# %% tags=["remove-cell"]
parts = summary["speedup_parts_at_0.7"]
glue("rd_speedup", f"{parts['random_dynamic']['measured']:.2f}×", display=False)
glue("ucb_speedup", f"{parts['ucb']['measured']:.2f}×", display=False)
glue("ucb_t10", f"{parts['ucb']['period_10']:.2f}×", display=False)
glue("score_share", f"{parts['ucb']['scoring_s_per_pass'] / parts['ucb']['full_s_per_pass']:.0%}", display=False)
glue("ucb_note", report.c3_throughput_note("UCB", parts["ucb"]), display=False)
rd = parts["random_dynamic"]
full_runs = runs[runs.selector == "full"]
full_rates = full_runs.images_seen / full_runs.train_seconds
glue("throughput_note", (
    f"That is {'above' if rd['measured'] > rd['ideal'] else 'within'} the ideal {rd['ideal']:.2f}×: its training ran at "
    f"{rd['train_img_s']:,.0f} images per second against {rd['full_img_s']:,.0f} for the full-data runs of the "
    f"same budget, and the full-data runs alone ranged from {full_rates.min():,.0f} to {full_rates.max():,.0f} "
    "images per second across budgets and seeds. A speed-up above the ideal reflects only such a difference "
    "in throughput."), display=False)

# %% [markdown]
# Random dynamic scores nothing and measured {glue:text}`rd_speedup`.
# {glue:text}`throughput_note` UCB pays a forward pass over every
# training image at each checkpoint. In these runs that pass cost {glue:text}`score_share` of a
# full-data training pass (`benchmarks/README.md` measures the pass in isolation). Re-scoring
# after every pass therefore brings UCB to {glue:text}`ucb_speedup`. {glue:text}`ucb_note` With the same measured
# parts, re-scoring every 10 passes as the paper does would give {glue:text}`ucb_t10`. That
# figure is a projection, not a run; a profile that runs the period sweep below measures it.
#
# Runs timed apart on a shared 2-core machine differ in throughput by 10-20%. The column "at
# matched throughput" removes that drift. It is the ratio of images trained on, times the share
# of the run spent training rather than scoring, which is what the method itself costs. The
# speed-up goal counts as met only when both figures reach 2.5×.
#
# ## Re-selecting less often
#
# Re-scoring after every pass costs the scoring passes, and it may change what the loss-driven
# selectors learn: compare their training accuracy on their own selection, pass by pass, in the
# figure above. Raju et al. chose their period of 10 epochs from a sweep (their Fig. 23: the best
# trade-off between accuracy and wall-clock).
# {glue:text}`period_plan` The verdict rules (an interval above zero; both speed-ups at least
# 2.5×) were fixed in code before any such run.

# %% tags=["remove-input"]
report.c3_period_table(summary)

# %% [markdown]
#
# ## Always, sometimes, never
#
# How often uncertainty EMA selected each sample at 70% pruned, summed over checkpoints and
# seeds (Raju Fig. 3), with a three-component mixture fit. As Raju et al. specify it, the
# selector ends at chance here (the diagnosis above), and nothing may rest on a run at chance,
# so this analysis and Table 1's test below use its per-class variant, which does not collapse:

# %% tags=["remove-input"]
sel = c3_picks.selection_counts(P, store, variant=c3.TABLE1_SOURCE_VARIANT)
plots.selection_histogram(sel["counts"], sel["mixture"], sel["selections"],
                          "Selection counts, per-class uncertainty EMA at 70% pruned")

# %% tags=["remove-cell"]
glue("groups", ", ".join(f"{n} {f:.0%}" for n, f in zip(sel["mixture"]["names"], sel["mixture"]["fractions"])),
     display=False)
glue("n_checkpoints", sel["selections"], display=False)

# %% [markdown]
# Samples by mixture component: {glue:text}`groups`, over {glue:text}`n_checkpoints`
# selections in all. With so few checkpoints the counts take only a handful of values, so the
# three groups are coarse; the paper had 20 checkpoints per run.
#
# Raju et al. (Table 1) tested the explanation directly. They trained again with the always set
# fixed and the rest of the budget either fixed (the top 30% by the final score) or re-drawn at
# random every period. Ours, at 70% pruned and {glue:text}`epochs` epochs:

# %% tags=["remove-input"]
report.c3_table1(runs, all_runs.variants, E)

# %% [markdown]
# ## Accuracy against images seen
#
# At 80% pruned (Raju Fig. 5), test accuracy after every pass against the number of training
# images seen so far:

# %% tags=["remove-input"]
plots.accuracy_vs_images(c3_picks.samples_seen(P, store, dynamic.FIG5_PRUNE),
                         "Test accuracy against images seen, 80% pruned")

# %% [markdown]
# ## A shorter budget
#
# In the static-pruning chapter, keeping the hardest examples fell further behind random the
# shorter the budget. The same comparisons at {glue:text}`short` epochs over the kept subset:

# %% tags=["remove-input"]
for e in short:
    display(report.c3_prune_table(runs, e, c3.AGGRESSIVE))
    display(plots.difference_to_random(c3.differences(runs, e), f"Differences in accuracy, {e} epochs",
                                       y_title="difference in test accuracy (percentage points)", legend="comparison"))

# %% tags=["remove-cell"]
imb = summary["imbalanced"]
glue("imb_n", f"{imb['n_train']:,}", display=False)
glue("imb_rates", ", ".join(f"{r:.0%}" for r in P.c3_imbalanced_rates), display=False)
glue("imb_full", f"{imb['acc_mean']['full'] * 100:.1f}%", display=False)

# %% [markdown]
# ## A second setting: class-imbalanced CIFAR-10
#
# Raju et al. (§4.5, Fig. 8a) report that selection matters more when the classes are
# imbalanced: on CIFAR-10 with classes 0-1 cut to 25%, 2-4 to 50% and 5-6 to 75% (their
# Table 2), UCB beats random dynamic once more than half the data is pruned. We cut the classes
# the same way, drawing the kept examples of each class at random (seed 0) and keeping the
# original order. That leaves
# {glue:text}`imb_n` training images, and the test set stays balanced. The four dynamic
# selectors run at {glue:text}`imb_rates` pruned, {glue:text}`epochs` epochs over the kept subset,
# {glue:text}`side_seeds` seeds each. Full data reaches {glue:text}`imb_full`. The loss-driven
# selectors collapse here as in the main setting, and comparisons with a run at chance are not
# read.

# %% tags=["remove-input"]
display(report.c3_prune_table(all_runs.imbalanced, E, c3.AGGRESSIVE))
plots.difference_to_random(c3.differences(all_runs.imbalanced, E, c3.IMBALANCED_COMPARISONS),
                           f"Imbalanced CIFAR-10: differences in accuracy, {E} epochs",
                           y_title="difference in test accuracy (percentage points)", legend="comparison")

# %% tags=["remove-cell"]
glue("verdict", report.c3_verdict_text(summary), display=False)

# %% [markdown]
# ## Verdict
#
# {glue:text}`verdict`
#
# Each comparison is read over the fractions of 70% or more: above, below, no detectable
# difference, mixed (the fractions disagree), at chance (a run compared ended below 15%, so it is
# not read) or not run (this profile's grid does not contain it at that budget). All of this is one small network trained for a few epochs on a CPU,
# not ResNet-18 for 200 epochs. The static-pruning chapter showed that such a short budget
# penalises selecting hard examples, so a loss-driven selector that fails here may still work
# in the paper's regime. The `paper` profile runs the full grid there.

# %% [markdown]
# ## Both regimes
#
# The same rule, read at every regime whose results are committed: this build's profile first.
# The introduction sets all three claims side by side.

# %% tags=["remove-input"]
both = regimes.read_summaries(regimes.regime_profiles(P.name))
Markdown(regimes.claim_table("c3", both))

# %% tags=["remove-cell"]
glue("regimes", regimes.agreement("c3", both), display=False)

# %% [markdown]
# {glue:text}`regimes`
