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
# # C2: static pruning by GraNd, EL2N and forgetting
#
# Paul et al. (2021, Fig. 1) pruned CIFAR-10 *before* training by a score per example and kept
# the highest-scoring part. Pruned by EL2N or GraNd taken early in training ("epoch 20 of 200"),
# or by forgetting events, half of the data could go with little loss of accuracy, and clearly
# less loss than pruning at random. GraNd taken at initialisation, before any training, was
# reported to do almost as well. Kirsch (2023, Fig. 2) re-ran the original code and found GraNd
# at initialisation no better than random, while EL2N reproduced. He found a checkpoint-restore
# bug in the Flax version of the time: asked for the checkpoint of step 0, it restored the
# *latest* one. If the 2021 runs hit it, their "GraNd at initialisation" was GraNd of a trained
# network; he suspects so, and this chapter tests that explanation.
#
# This chapter runs the static-pruning protocol for every score with one protocol and one budget,
# adds the restore-bug variant, and states the claim's verdict part by part. {glue:text}`build_note`

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | airbench | paper; any profile field can be passed too, e.g. papermill -p eval_seeds 4
force = False    # recompute instead of reading the result store
engine = "local"  # where the grid runs: local (this kernel) or ray (see the Reproduce chapter)

# %% tags=["remove-cell"]
from IPython.display import Markdown
from myst_nb import glue

from datadiet_core import bank, c2, c2_picks, plots, profiles, regimes, report, report_c2, selection, summaries, sweep
from datadiet_core.store import Store, write_summary

plots.enable_offline()
P = profiles.from_namespace(globals())
store = Store.for_profile(P.name)

# %% tags=["remove-cell"]
glue("model", P.model, display=False)
glue("epochs", P.epochs, display=False)
glue("k", P.scoring_seeds, display=False)
glue("eval_seeds", P.eval_seeds, display=False)
glue("side_seeds", profiles.side_seeds(P), display=False)
glue("cells", report_c2.c2_cells_text(P), display=False)
glue("n_runs", len(c2.grid(P)), display=False)
glue("early", c2.checkpoint_text(P), display=False)
glue("convention", report.CONVENTION[P.c2_budget], display=False)
glue("protocol_budget", report_c2.c2_protocol_budget(P), display=False)

# %% [markdown]
# ## Protocol
#
# **Scores.** The {glue:text}`k` scoring runs of the training-setup chapter (full data,
# {glue:text}`epochs` epochs of the {glue:text}`model` network, seeds 0, 1, …) are checkpointed at
# initialisation, early in training ({glue:text}`early`) and at the end, and count forgetting
# events. Every score is averaged over those runs, exactly as defined in {doc}`../book/methods`:
#
# | score | what it is |
# |---|---|
# | random | a uniformly random subset (a fresh draw per evaluation seed) |
# | input norm | $\lVert x \rVert_2$ of the normalised image |
# | GraNd@init | gradient norm over all trained parameters at initialisation |
# | GraNd early, EL2N early | gradient norm, and $\lVert p - y \rVert_2$, at the early checkpoint |
# | forgetting | forgetting events over the whole run (never learned = highest) |
# | GraNd@init (restore bug) | GraNd of each scoring run's *last* checkpoint: what the 2021 code computed when asked for step 0, if it hit the bug |
# | GraNd, EL2N pre-drop | where a profile sets one: the same scores at the last epoch before the learning rate first falls (a second set of scoring runs) |
#
# **Evaluation runs.** For each score, at the fractions pruned the profile runs it
# ({glue:text}`cells`), we keep the highest-scoring examples of the whole training set, as the
# original code does, and train a fresh network on them, with seeds 1000, 1001, … that never
# scored anything: {glue:text}`eval_seeds` per point for random, GraNd@init, GraNd early and EL2N early (the cells
# the headline rests on) and {glue:text}`side_seeds` for the other cells. {glue:text}`protocol_budget`
# All {glue:text}`n_runs` evaluation runs of this chapter go through the result store:

# %%
sweep.sweep("c2", P, store.root, engine=engine, progress=None, force=force)  # computes what is missing
runs = c2.load(P, store)  # then reads every run back
score_bank = bank.score_bank(P, store)

# %% tags=["remove-cell"]
acc = c2.accuracy(runs, P.epochs)
diffs = c2.differences(runs)
summary = summaries.claim2(P, store)
write_summary(P.name, "c2", summary)
glue("full_acc", f"{summary['acc_mean']['full'] * 100:.1f}%", display=False)
glue("full_std", f"{summary['acc_std']['full'] * 100:.1f}", display=False)
glue("verdict", report_c2.c2_verdict_text(summary), display=False)
both = regimes.read_summaries(regimes.regime_profiles(P.name))  # every regime, this build's summary just written
glue("build_note", regimes.build_note("c2", both, P.name), display=False)
glue("parts_notes", report_c2.c2_parts_notes(summary), display=False)
glue("compute_minutes", f"{c2.compute_seconds(P, store, runs) / 60:.0f}", display=False)
glue("median_run_s", f"{c2.median_run_seconds(runs, P.epochs):.0f}", display=False)
glue("early_text", report_c2.c2_early_text(P, summary["early_checkpoint"]), display=False)
glue("budget_note", report_c2.c2_budget_note(P.name, summary["budget_conventions"]), display=False)
glue("regime", summary["headline"]["regime"], display=False)
glue("restore_bug", report_c2.restore_bug_text(summary), display=False)

# %% [markdown]
# ## Accuracy against the fraction pruned
#
# Mean over evaluation seeds, with the 16th-84th percentile band across seeds (Paul et al.'s
# presentation) where a cell has 3 seeds or more; the dashed line is full-data training,
# {glue:text}`full_acc` ± {glue:text}`full_std` over the scoring runs. The table gives mean ± standard deviation across
# seeds; a cell with fewer seeds than the others says how many.

# %% tags=["remove-input"]
plots.accuracy_vs_pruned(acc[acc.score.isin(selection.STATIC_SCORES)], summary["acc_mean"]["full"],
                         f"Static pruning, keep the highest scores ({P.model}, {P.epochs} epochs, "
                         f"{report.CONVENTION[P.c2_budget]})")

# %% tags=["remove-input"]
report.show(report_c2.c2_accuracy_table(acc[acc.score.isin(selection.STATIC_SCORES)]))

# %% [markdown]
# ## The verdict, part by part
#
# Each part compares one score's subset with random's at every fraction where the grid ran it:
# accuracy minus random in percentage points, with Welch's 95% interval from the seeds of the two
# cells ({doc}`../book/methods`), read as above random, below it, or no detectable difference. A
# cell with fewer than 3 seeds has no interval and decides nothing. Beside each part: the published
# difference at every fraction both the grid and its source ran (the source's mean, without an interval),
# and at 50% pruned the same comparison with per-class selection and, where the profile has one, at
# the pre-drop checkpoint. Regime: {glue:text}`regime`.

# %% tags=["remove-input"]
Markdown(report.parts_table("c2", summary["headline"]))

# %% [markdown]
# {glue:text}`verdict`
#
# {glue:text}`parts_notes`
#
# Every score against random, at every fraction where both ran:

# %% tags=["remove-input"]
plots.difference_to_random(diffs[(diffs.rule == "keep_highest") & (diffs.epochs == P.epochs)
                                 & diffs.score.isin(selection.STATIC_SCORES)],
                           f"Accuracy minus random ({P.model}, {P.epochs} epochs)")

# %% [markdown]
# ## Beside the published numbers
#
# The same differences as published, each with its budget convention: Kirsch's fork of the
# original JAX code gives every pruned run the same number of steps (equal iterations), his
# PyTorch reproduction the same number of epochs (a pruned run takes fewer steps).
# {glue:text}`budget_note` Both published networks reach about 94-95% on full data; ours reaches
# {glue:text}`full_acc`.

# %% tags=["remove-input"]
report.show(report_c2.c2_published_table(summary["budget_conventions"], P.model, summary["diff_to_random"]))

# %% [markdown]
# ## Which classes each subset keeps
#
# A score that is larger for some classes than for others prunes those classes unevenly, and
# a subset that starves a class cannot learn it, however informative the kept examples are.
# The original data-diet code selects over the whole set; DeepCore selects within each class.
# Examples kept per class at 50% pruned, for every score with both rules (and the other rules
# where the profile runs them):

# %% tags=["remove-input"]
kept = c2_picks.kept_per_class(P, score_bank)
plots.kept_per_class(kept, "Training examples kept per class at 50% pruned")

# %% tags=["remove-cell"]
glue("starved", report.starvation_text(kept), display=False)
glue("per_class_text", report_c2.c2_per_class_text(summary), display=False)

# %% [markdown]
# {glue:text}`starved`
#
# {glue:text}`per_class_text`

# %% tags=["remove-input"]
plots.chart_or_note(report_c2.c2_per_class_table(summary), "")

# %% [markdown]
# ## The restore bug, and the other checks
#
# If the 2021 "GraNd at initialisation" was GraNd of a trained network, its subsets should behave
# like those of a late score (forgetting) and unlike GraNd at initialisation. Each check is a
# difference in accuracy between two selections (two scores, or two rules for one score), in
# percentage points with Welch's 95% interval, at every fraction where both ran:

# %% tags=["remove-input"]
report.show(report_c2.c2_checks_table(summary))

# %% [markdown]
# {glue:text}`restore_bug`

# %% [markdown]
# ## Where "early" is taken
#
# {glue:text}`early_text` Where each trained score is taken, how far the scoring networks had
# learned there, and what keeping the highest half by it does, against random:

# %% tags=["remove-input"]
plots.chart_or_note(report_c2.c2_checkpoint_table(summary), "No checkpoint comparison ran in this profile.")

# %% [markdown]
# ## How the training budget changes the comparison
#
# Sorscher et al. (2022) predict that which examples to keep depends on the regime: when data is
# scarce relative to what the model can fit, or the model cannot fit it, keeping the *easy*
# examples is better; with abundant data, the hard ones. A short training budget is one way a
# model fails to fit, so the budget map tests an analogue of their prediction, not the
# prediction itself. Where the profile runs a budget map, the
# same scores (from the same scoring runs) are evaluated at 50% pruned with shorter training
# budgets, and with the opposite rule (keep the easiest) and coverage-centric stratified selection
# (Zheng et al. 2023: drop the hardest 10%, then sample evenly across 50 score bins):

# %% tags=["remove-input"]
plots.chart_or_note(plots.regime_map(diffs), "This profile runs no budget map (the papermill parameter regime_epochs adds it).")

# %% tags=["remove-input"]
plots.chart_or_note(report_c2.c2_rules_table(diffs, P.epochs), "This profile runs no other selection rule.")

# %% tags=["remove-cell"]
glue("budget_text", report_c2.c2_budget_text(summary), display=False)

# %% [markdown]
# {glue:text}`budget_text`
#
# ## How the scores relate
#
# Spearman's $\rho$ between every pair of scores (training split, averaged over the scoring
# runs). Kirsch (2023) published some of these pairs for ResNet-18 trained 200 epochs; the
# chapter on claim C1 sets ours beside his with intervals.

# %% tags=["remove-input"]
plots.spearman_heatmap(c2_picks.spearman_matrix(score_bank), "Spearman ρ between pruning scores")

# %% [markdown]
# Paul et al. (Fig. 10) average every score over 10 runs because one run ranks the examples
# noisily. How our rankings settle with the number of scoring runs averaged: against the mean
# of all runs (which includes the runs averaged, so it reaches 1 by construction), and,
# without that overlap, between the means of two disjoint groups of runs:

# %% tags=["remove-input"]
plots.rank_reliability(c2_picks.rank_reliability(P, store), "How the rankings settle with more scoring runs")

# %% [markdown]
# ## What this regime is, and is not
#
# - **Model and budget.** {glue:text}`regime`. The verdicts hold for that budget and not beyond
#   it; the last section sets them beside the other regime's.
# - **Scoring runs.** Scores are averaged over {glue:text}`k` runs, not 10; the rank-settling
#   figure shows how much the rankings would still move.
# - **Seeds.** {glue:text}`eval_seeds` evaluation seeds in the cells the headline rests on and
#   {glue:text}`side_seeds` elsewhere, not 4: Welch's intervals from so few seeds are wide, and
#   a comparison needs at least 3 seeds per cell to have an interval at all.
# - **Cost.** From an empty store, this chapter's scoring runs, scores and evaluation runs took
#   {glue:text}`compute_minutes` minutes on 2 CPU cores (the sum of the stored wall-clock times;
#   some runs shared the cores with other work, so this is an upper bound: the median evaluation
#   run at the headline's budget took {glue:text}`median_run_s` s). The Reproduce page sets it beside the plan's estimate;
#   `python -m datadiet_core plan c2 --profile paper` estimates the papers' setting on a GPU.
#
# ## Both regimes
#
# The same rule, read at each regime the book sets side by side: this build's profile first.
# The introduction sets all three claims side by side.

# %% tags=["remove-input"]
Markdown(regimes.claim_table("c2", both, above=P.name))

# %% tags=["remove-cell"]
glue("regimes", regimes.agreement("c2", both), display=False)

# %% [markdown]
# {glue:text}`regimes`
#
# The suspected cause at each regime, read by the rule of the restore-bug section above:

# %% tags=["remove-input"]
Markdown(regimes.restore_bug_table(both))
