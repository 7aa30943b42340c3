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
# (Algorithm 1) and report that, at aggressive pruning rates, this beats every static subset,
# even when the re-selection is uniformly random, and that it saves wall-clock time even after
# paying for its own scoring passes, while static methods pay for whole training runs to get
# their scores. They explain it by "sometimes" samples: examples that matter only during part of
# training, which no fixed subset can serve.
#
# This chapter runs their selectors beside the static ones of the previous chapter and three
# later per-epoch or per-batch methods, at the same number of epochs over the kept subset, so
# the cost of a run falls with the pruning rate.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | paper; any profile field can be passed too, e.g. papermill -p eval_seeds 4
force = False    # recompute instead of reading the result store
engine = "local"  # where the grid runs: local (this kernel) or ray (see the Reproduce chapter)

# %% tags=["remove-cell"]
from myst_nb import glue

from datadiet_core import experiments, plots, profiles, store, sweep

plots.enable_offline()
P = profiles.from_namespace(globals())
results = store.Store.for_profile(P.name)
E = max(P.c3_epochs)
glue("model", P.model, display=False)
glue("epochs", E, display=False)
glue("budgets", ", ".join(str(e) for e in sorted(P.c3_epochs)), display=False)
glue("seeds", P.eval_seeds, display=False)
glue("rates", ", ".join(f"{r:.0%}" for r in P.c3_rates), display=False)
glue("period", experiments.c3_period(E), display=False)
glue("alpha", experiments.C3_PARAMS["alpha"], display=False)
glue("epsilon", experiments.C3_PARAMS["epsilon"], display=False)
glue("c", experiments.C3_PARAMS["c"], display=False)

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
# | InfoBatch | per epoch | drops each below-mean-loss sample with probability $r$ (= the rate), up-weights the kept ones by $1/(1-r)$, full data for the last 12.5% |
# | Selective-Backprop | per batch | back-propagates a sample with probability $q^\beta$, $q$ its loss percentile |
# | Random-Backprop | per batch | back-propagates each sample with probability $1 - $ rate |
#
# Dynamic selectors re-select every {glue:text}`period` pass(es) over the kept subset (5% of
# training, Raju's 10 of 200 epochs), from the loss of the current model on every training
# sample; that scoring pass is part of the run's time. α = {glue:text}`alpha` as in the paper;
# the paper does not give ε or c, so we use ε = {glue:text}`epsilon` and c = {glue:text}`c`.
#
# **Runs.** Pruning rates {glue:text}`rates`; {glue:text}`seeds` fresh seeds per point; budgets of
# {glue:text}`budgets` epochs over the kept subset (the {glue:text}`model` network). Everything
# goes through the result store:

# %%
sweep.sweep("claim3", P, results.root, engine=engine, progress=None, force=force)  # computes what is missing
runs = experiments.c3_results(P, results)  # then reads every run back

# %% tags=["remove-cell"]
summary = experiments.c3_summary(P, runs)
store.write_summary(P.name, "c3", summary)
acc = experiments.c3_accuracy(runs, E)
glue("full_acc", f"{summary['acc_mean']['full'] * 100:.1f}%", display=False)

# %% [markdown]
# ## Accuracy against the pruning rate
#
# At the longest budget, {glue:text}`epochs` epochs (the dashed line is full data,
# {glue:text}`full_acc`):

# %% tags=["remove-input"]
plots.accuracy_vs_pruned(acc, summary["acc_mean"]["full"], f"Static and dynamic pruning ({P.model}, {E} epochs)")

# %% [markdown]
# ## What it costs
#
# Seconds per run on this machine, scoring passes included. On the right, static selectors are
# also charged the training that produced their scores (Raju Fig. 2b): EL2N the first 10% of
# every scoring run plus the scoring pass, forgetting every scoring run in full.

# %% tags=["remove-input"]
plots.wallclock_vs_accuracy(acc, summary["acc_mean"]["full"], summary["wallclock_s"]["full"],
                            "Accuracy against wall-clock per run")

# %% [markdown]
# ## Always, sometimes, never
#
# How often each sample was selected by uncertainty EMA at 70% pruned, summed over checkpoints
# and seeds (Raju Fig. 3), with a three-component mixture fit:

# %% tags=["remove-input"]
sel = experiments.c3_selection_counts(P, results)
plots.selection_histogram(sel["counts"], sel["mixture"], sel["checkpoints"], "Selection counts, uncertainty EMA at 70% pruned")

# %% tags=["remove-cell"]
glue("groups", ", ".join(f"{n} {f:.0%}" for n, f in zip(sel["mixture"]["names"], sel["mixture"]["fractions"])),
     display=False)

# %% [markdown]
# Samples by mixture component: {glue:text}`groups`.
#
# Raju et al. (Table 1) tested the explanation directly: train again with the always set fixed
# and the rest of the budget either fixed (the top 30% by the final score) or re-drawn at random
# every period. Ours, at 70% pruned and {glue:text}`epochs` epochs:

# %% tags=["remove-input"]
experiments.c3_table1(runs, E)

# %% [markdown]
# ## Accuracy against images seen
#
# At 80% pruned (Raju Fig. 5), against the number of training images seen:

# %% tags=["remove-input"]
plots.accuracy_vs_images(experiments.c3_samples_seen(P, results, rate=0.8), "Test accuracy against images seen, 80% pruned")

# %% tags=["remove-cell"]
glue("verdict", experiments.c3_verdict_text(summary), display=False)

# %% [markdown]
# ## Verdict
#
# {glue:text}`verdict`
