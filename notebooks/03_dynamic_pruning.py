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
# This chapter runs their selectors beside static ones scored as in the previous chapter and,
# as far as the profile runs them, three per-pass or per-batch methods (InfoBatch,
# Selective-Backprop, Random-Backprop), and states the claim's verdict part by part.
# {glue:text}`build_note`

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | airbench | paper; any profile field can be passed too, e.g. papermill -p eval_seeds 4
force = False    # recompute instead of reading the result store
engine = "local"  # where the grid runs: local (this kernel) or ray (see the Reproduce chapter)

# %% tags=["remove-cell"]
from IPython.display import Markdown, display
from myst_nb import glue

from datadiet_core import (bank, c2_picks, c3, c3_picks, dynamic, plots, profiles, regimes, report, report_c3, report_c3_cost,
                           selection, summaries, sweep)
from datadiet_core.store import Store, write_summary

plots.enable_offline()
P = profiles.from_namespace(globals())
store = Store.for_profile(P.name)

# %% tags=["remove-cell"]
E = max(P.c3_epochs)
glue("epochs", E, display=False)
glue("period_words", "every pass" if dynamic.period_passes(E) == 1 else f"every {dynamic.period_passes(E)} passes",
     display=False)
glue("alpha", selection.PARAMS["alpha"], display=False)
glue("epsilon", selection.PARAMS["epsilon"], display=False)
glue("c", selection.PARAMS["c"], display=False)
glue("runs_text", report_c3.runs_text(P), display=False)
glue("period_plan", report_c3_cost.period_plan(P), display=False)

# %% [markdown]
# ## Selectors
#
# | selector | kind | what it keeps |
# |---|---|---|
# | random (static) | static | one random subset for all of training |
# | EL2N early (static), forgetting (static) | static | the highest-scoring subset, scores from the training-setup chapter's scoring runs (those the previous chapter prunes by) |
# | EL2N early + ε-greedy (static) | static score, re-drawn | $(1-\varepsilon)k$ by EL2N, $\varepsilon k$ at random, re-drawn every period (Raju App. B) |
# | random (dynamic) | dynamic | $k$ samples uniformly at random, re-drawn every period |
# | uncertainty EMA | dynamic | the $k$ highest EMA of the loss, $s_{ema} = \alpha s + (1-\alpha) s_{prev}$ (eqs. 1-2) |
# | ε-greedy | dynamic | $(1-\varepsilon)k$ by $s_{ema}$, $\varepsilon k$ at random from the rest |
# | UCB | dynamic | the $k$ highest $s_{ema} + c\,\mathrm{var}$, with the running variance of eq. 3 |
# | InfoBatch | per pass | drops each below-mean-loss sample with probability $r$ (= the rate), up-weights the kept ones by $1/(1-r)$, full data from 87.5% of the passes on |
# | Selective-Backprop | per batch | back-propagates a sample with probability $q^\beta$, $q$ its loss percentile |
# | Random-Backprop | per batch | back-propagates each sample with probability $1 - $ rate |
#
# {doc}`../book/methods` gives the equations. Dynamic selectors re-select
# {glue:text}`period_words` over the kept subset: the paper's period is 5% of training (10 of
# 200 epochs), less than one pass at our budgets under equal epochs, so the period is floored at
# one pass (under equal iterations a run makes 1/(1 − rate) times as many passes, and 5% of them
# can be more; {doc}`../book/methods` gives the rule). Before
# each re-selection a scoring pass
# computes the current model's loss on every training sample (eval mode, no augmentation, no
# label smoothing), and that pass counts in the run's time. α = {glue:text}`alpha` as in the
# paper; it does not give ε or c, so we use ε = {glue:text}`epsilon` and c = {glue:text}`c`.
#
# **Runs.** {glue:text}`runs_text` They run through the result store:

# %%
sweep.sweep("c3", P, store.root, engine=engine, progress=None, force=force)  # computes what is missing
all_runs = c3.load(P, store)  # then reads every run back: main grid, equal iterations, the other settings
runs = all_runs.main

# %% tags=["remove-cell"]
summary = summaries.claim3(P, store)
write_summary(P.name, "c3", summary)
acc = c3.accuracy(runs, E)
glue("full_acc", f"{summary['acc_mean']['full'] * 100:.1f}%", display=False)
glue("verdict", report_c3.verdict_text(summary), display=False)
both = regimes.read_summaries(regimes.regime_profiles(P.name))  # every regime, this build's summary just written
glue("build_note", regimes.build_note("c3", both, P.name), display=False)
glue("regime", summary["headline"]["regime"], display=False)

# %% [markdown]
# ## Accuracy against the pruning rate
#
# At {glue:text}`epochs` epochs over the kept subset; the dashed line is full data
# ({glue:text}`full_acc`). Static selectors are drawn dashed, the others solid; a selector run at
# one rate only is a single point:

# %% tags=["remove-input"]
plots.accuracy_vs_pruned(acc, summary["acc_mean"]["full"], f"Static and dynamic pruning ({P.model}, {E} epochs)",
                         dashed=selection.STATIC_SELECTORS)

# %% [markdown]
# ## The verdict, part by part
#
# Random dynamic against static EL2N (Raju et al.'s comparison), against static random (what
# re-drawing adds by itself) and against full data at 80% pruned (Raju et al.: about 3.5 points
# below). Each difference is in percentage points with Welch's 95% interval from the two cells'
# seeds; a cell with fewer than 3 seeds has no interval, and a run that ended at chance is not
# read. Regime: {glue:text}`regime`.

# %% tags=["remove-input"]
Markdown(report.parts_table("c3", summary["headline"]))

# %% [markdown]
# {glue:text}`verdict`
#
# Read the first part with the class counts below in mind: a static subset ordered by EL2N over
# the whole set can keep few examples of some classes, so random dynamic may beat it partly by
# covering every class. The second part, against static random, has no such skew and isolates
# what re-drawing adds by itself.
#
# The other comparisons, read over the fractions of 70% or more (above, below, no detectable
# difference, mixed when the fractions disagree, at chance, fewer than 3 seeds with no interval,
# or not run; InfoBatch at its own rate, since it prunes less than the rate says):

# %% tags=["remove-input"]
report.show(report_c3.comparisons_table(summary))

# %% tags=["remove-input"]
plots.difference_to_random(c3.differences(runs, E, report_c3.PLOTTED), f"Differences in accuracy ({P.model}, {E} epochs)",
                           y_title="difference in test accuracy (percentage points)", legend="comparison")

# %% [markdown]
# Every selector at 70% pruned, the rate of Raju et al.'s Table 1, with its difference to random
# dynamic. Seconds are the median across a cell's seeds: runs timed apart on a shared machine
# differ, and one that shared the cores with other work would carry the mean. "With scores
# charged" adds what a selector needs before it can train: a static selector's scores (as much
# of the scoring runs as they need, and for EL2N its EL2N pass), and for Table 1's two probes the
# uncertainty-EMA runs their fixed rows come from:

# %% tags=["remove-input"]
report.show(report_c3_cost.prune_table(runs, E, c3.AGGRESSIVE))

# %% tags=["remove-cell"]
glue("throughput_drift", report_c3_cost.throughput_drift_text(runs, E), display=False)
kept = c2_picks.kept_per_class(P, bank.score_bank(P, store), prune=max(P.c3_rates), only=c2_picks.c3_static(P))
glue("static_starved", report.starvation_text(kept), display=False)
glue("max_rate", f"{max(P.c3_rates):.0%}", display=False)

# %% [markdown]
# {glue:text}`throughput_drift`
#
# A score-ordered subset of the whole set can starve classes. Here the static selectors' subsets
# at {glue:text}`max_rate` pruned, the highest rate the grid ran, are counted against an even
# share per class. {glue:text}`static_starved`
#
# ## Does a run fit its subset?
#
# Whether re-drawing the subset can help depends on whether a static subset gets fit: a net that
# passes over its subset only a few times may not fit it, and then a fresh draw has little to
# offer. The training accuracy of each run's last pass, on the rows it trained on then:

# %% tags=["remove-input"]
report.show(report_c3.fit_table(summary))

# %% tags=["remove-cell"]
glue("iterations_period", report_c3.iterations_period_text(P), display=False)

# %% [markdown]
# ## Equal iterations
#
# Raju et al. trained for 200 epochs, so their static subsets were passed over many times. The
# equal-iterations cells give every run as many optimiser steps as a full-data run: at 70% pruned
# a run passes over its subset 1/0.3 times as often as under equal epochs.
# {glue:text}`iterations_period`

# %% tags=["remove-input"]
plots.chart_or_note(report_c3.iterations_table(summary), "")

# %% tags=["remove-cell"]
glue("iterations_text", report_c3.iterations_text(summary, bool(P.c3_iterations)), display=False)

# %% [markdown]
# {glue:text}`iterations_text`
#
# ## What the loss-driven selectors train on
#
# A loss-driven selector keeps the examples that the current model gets most wrong. The training
# accuracy on the current selection, pass by pass, at 70% pruned, beside random dynamic:

# %% tags=["remove-input"]
plots.accuracy_vs_images(c3_picks.histories(P, store, c3.AGGRESSIVE, c3.LOSS_DRIVEN),
                         "Training accuracy on the current selection, 70% pruned", y="train_acc",
                         y_title="training accuracy on the selection (%)")

# %% [markdown]
# The classes in the selection, averaged over re-selections and seeds:

# %% tags=["remove-input"]
per_class = c3_picks.selected_per_class(P, store, c3.AGGRESSIVE, c3.LOSS_DRIVEN)
plots.kept_per_class(per_class, "Examples per class in the selection, 70% pruned", y_title="selector",
                     count_title="examples per re-selection (count)")

# %% [markdown]
# ## Why a loss-driven selector collapses
#
# A network near 10% accuracy predicts about one class, so a run that ends there is a defect
# until shown otherwise. Every re-selection stores the classes in the selection and what a
# divergence would show: the largest loss of the scoring pass, the largest weight and the range
# of the BatchNorm running variances. Where the profile runs them, the variants differ from Raju
# et al.'s method in one respect only: *per class* keeps the highest scores in proportion within
# every class; *first selection random* draws the first subset uniformly, where a freshly
# initialised net would otherwise choose it (for ε-greedy, per class applies to its greedy share;
# its random tenth stays uniform). Where its runs kept the classes of every selection, random
# dynamic is shown beside them: the mix a re-selection keeps when no score steers it. The class
# shares of every selection, first seed:

# %% tags=["remove-input"]
shares = c3_picks.class_shares(P, store)
plots.class_shares(shares[shares.seed == shares.seed.min()],
                   f"Share of each class in every selection, 70% pruned, seed {shares.seed.min()}")

# %% [markdown]
# The checks per run and the final accuracy of each variant. The last column is the class
# turnover: the share of a selection that moves to other classes at the next re-selection
# (the total-variation distance of consecutive class shares; 0% when every selection keeps its
# class mix, 100% when the classes swap at every pass):

# %% tags=["remove-input"]
checks = c3_picks.divergence_checks(P, store)
report.show(report_c3.collapse_table(checks))

# %% tags=["remove-cell"]
glue("collapse", report_c3.collapse_text(summary["collapse"]), display=False)
glue("table1_cost", report_c3_cost.table1_cost_note(c3_picks.table1_source_timing(all_runs, E)), display=False)

# %% [markdown]
# {glue:text}`collapse`
#
# ## What it costs
#
# Seconds per run (the median across seeds), scoring passes included. On the right, static
# selectors are also charged the training that produced their scores (Raju Fig. 2b): EL2N the
# scoring runs up to the early checkpoint plus its EL2N pass (a forward pass; the GraNd part of
# the stored pass is not charged), forgetting every scoring run in full. Table 1's two probes
# are charged the uncertainty-EMA runs their fixed rows come from. {glue:text}`table1_cost`

# %% tags=["remove-input"]
plots.wallclock_vs_accuracy(acc, summary["acc_mean"]["full"], summary["wallclock_s"]["full"],
                            f"Accuracy against wall-clock per run ({P.model}, {E} epochs)")

# %% [markdown]
# Raju et al. report that dynamic pruning saves wall-clock time even counting its scoring; at 70%
# pruned the ideal is 1/0.3 = 3.3× faster than full data. The first table gives the measured
# speed-ups; the second splits each run into training per pass over the kept 30% and one scoring
# pass, from which the first also projects the speed-up of a re-selection every T passes, each
# charged a whole scoring pass, the first selection included (T = 10 passes is the paper's spacing
# of 10 epochs, counted in passes rather than as a share of training: it shows what the scoring
# costs when it is rare). A run of 10 passes or fewer then selects once, with the untrained net:
# that is static pruning by the selector's score, its accuracy not measured here, so that column
# is a cost alone. A speed-up at matched throughput can exceed the ideal slightly: each pass
# trains on whole batches and drops the remainder, a larger share of a small subset than of the
# full data.

# %% tags=["remove-input"]
report.show(report_c3_cost.speedup_table(summary, "speed-ups"))

# %% tags=["remove-input"]
report.show(report_c3_cost.speedup_table(summary, "parts"))

# %% tags=["remove-cell"]
glue("speed_text", report_c3_cost.speed_text(summary), display=False)
glue("throughput_notes", report_c3_cost.throughput_notes(summary["speedup_parts_at_0.7"]), display=False)

# %% [markdown]
# {glue:text}`speed_text` {glue:text}`throughput_notes` Runs timed apart differ in throughput,
# most where the cores were shared or another host ran them. The column "at matched throughput"
# removes that drift: the ratio of images trained on, times the share of the run spent training
# rather than scoring.
#
# ## Re-selecting less often
#
# Raju et al. chose their period of 10 epochs from a sweep (their Fig. 23: the best trade-off
# between accuracy and wall-clock). {glue:text}`period_plan`

# %% tags=["remove-input"]
plots.chart_or_note(report_c3_cost.period_table(summary), "")

# %% [markdown]
# ## Always, sometimes, never
#
# How often uncertainty EMA selected each sample at 70% pruned, summed over re-selections and
# seeds (Raju Fig. 3), with a three-component mixture fit. Where the profile runs its per-class
# variant, that variant is read instead: as specified, the selector can end at chance (see "Why a
# loss-driven selector collapses" above), and nothing may rest on a run at chance.

# %% tags=["remove-input"]
sel = c3_picks.selection_counts(P, store, variant=c3_picks.table1_source(P))
plots.selection_histogram(sel["counts"], sel["mixture"], sel["selections"],
                          report_c3.selection_counts_title(c3_picks.table1_source(P)))

# %% tags=["remove-cell"]
glue("groups", report_c3.mixture_text(sel["mixture"], sel["selections"]), display=False)
glue("per_run", report_c3.selections_per_run_text(sel["selections"], sel["runs"]), display=False)

# %% [markdown]
# Samples by mixture component, named by rank as in Raju et al., with the selection counts each
# covers: {glue:text}`groups`. {glue:text}`per_run` Raju et al. (Table 1) tested the explanation
# directly, training again with the always set fixed and the rest either fixed or re-drawn every
# period; where the profile runs those probes, ours are in the table:

# %% tags=["remove-input"]
report.show(report_c3.table1(runs, all_runs.variants, E))

# %% tags=["remove-cell"]
glue("table1_note", report_c3.table1_note(runs, E), display=False)

# %% [markdown]
# {glue:text}`table1_note`

# %% [markdown]
# ## Accuracy against images seen
#
# At 80% pruned, the rate of Raju Fig. 5, test accuracy after every pass against the number of
# training images seen so far. For their Fig. 5 (§4.4) Raju et al. train each pruned run for N/k
# times as many epochs (k of N examples kept), until it has seen as many images as full data; their
# main grid (§4.1, Fig. 2a, 200 epochs: the source of "a 3.5% drop at 80% pruned") and ours
# run under equal epochs, so here a pruned run stops at a fifth of full data's images.

# %% tags=["remove-input"]
plots.accuracy_vs_images(c3_picks.samples_seen(P, store, dynamic.FIG5_PRUNE),
                         "Test accuracy against images seen, 80% pruned")

# %% [markdown]
# ## A shorter budget, and a class-imbalanced setting
#
# Where the profile runs them: the core comparisons at a shorter budget, and Raju et al.'s
# second setting (§4.5, Fig. 8a): CIFAR-10 with classes 0-1 cut to 25%, 2-4 to 50% and 5-6 to 75%
# (their Table 2; the kept examples of each class drawn at random, seed 0, in the original
# order), where they report UCB above random dynamic once more than half the data is pruned.

# %% tags=["remove-input"]
display(*plots.c3_other_settings(P, all_runs), Markdown(report_c3.other_settings_text(P, summary)))

# %% [markdown]
# ## Both regimes
#
# The same rule, read at each regime the book sets side by side: this build's profile first.
# The introduction sets all three claims side by side.

# %% tags=["remove-input"]
Markdown(regimes.claim_table("c3", both, above=P.name))

# %% tags=["remove-cell"]
glue("regimes", regimes.agreement("c3", both), display=False)

# %% [markdown]
# {glue:text}`regimes`
#
# The loss-driven selectors at 70% pruned and the longest budget, as Raju et al. specify them and
# in the variants of the diagnosis above, in every regime whose diagnosis runs are stored (a
# regime's diagnosis is stated as soon as its own runs are, before the rest of its grid):

# %% tags=["remove-input"]
Markdown(regimes.collapse_table(both))
