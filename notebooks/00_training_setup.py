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
# # The training setup
#
# Every claim in this book is a statement about networks trained on CIFAR-10, so before any
# pruning we fix, and measure, the thing being pruned: the data, the network, the training
# recipe and what it achieves on the full training set. Later chapters compare against the
# numbers on this page.
#
# The papers train ResNet-18 for 200 epochs (Paul et al. 2021, App. B). On the 2-core CPU
# this book is computed on, one ResNet-18 epoch takes about 8 minutes, so the default `cpu`
# profile trains a small batch-normalised conv net for a few epochs instead; the `paper`
# profile runs the papers' setting on a GPU host (see {doc}`../book/reproduce`).

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | paper; any profile field can be passed too, e.g. papermill -p epochs 4
force = False    # recompute instead of reading the result store
engine = "local"  # where the runs go: local (this kernel) or ray (see the Reproduce chapter)

# %% tags=["remove-cell"]
from myst_nb import glue

from datadiet_core import bank, data, plots, profiles, stats, sweep, train
from datadiet_core.store import Store, write_summary

plots.enable_offline()
P = profiles.from_namespace(globals())
store = Store.for_profile(P.name)

# %% [markdown]
# ## The data
#
# We load the dataset in its **original order**: example `i` here is example `i` of the
# published files. (The original data-diet code sorted CIFAR-10 by class before indexing its
# scores; nothing here does.) The pixel arrays are verified against fixed sha256 digests
# before use, whichever route fetched them.

# %%
ds = data.load_dataset(P.dataset)
dd = train.device_data(P)
print(f"{ds.name}: {len(dd.train_index):,} training and {len(dd.y_test):,} test images "
      f"of shape {ds.x_train.shape[1:]} in {ds.num_classes} classes, on {dd.device}")

# %% tags=["remove-input"]
plots.class_counts(data.class_count_frame(ds, dd.train_index), "Examples per class")

# %% [markdown]
# The first two training images of each class, in the dataset's own order:

# %% tags=["remove-input"]
grid = data.first_per_class(ds.y_train, ds.num_classes, 2)
plots.image_grid(ds.x_train[grid].reshape(ds.num_classes, 2, *ds.x_train.shape[1:]).swapaxes(0, 1)
                 .reshape(-1, *ds.x_train.shape[1:]), ["first", "second"], list(ds.classes),
                 "Training images by class (original order)")

# %% [markdown]
# ## The recipe
#
# One training function serves every chapter: SGD with Nesterov momentum 0.9 and weight decay
# $5\cdot10^{-4}$, the learning rate divided by 5 at 30%, 60% and 80% of training (the paper's
# epochs 60, 120 and 160 of 200), per-channel normalisation with training statistics, and the
# standard augmentation (pad 4, random 32×32 crop, horizontal flip), applied to whole batches
# on the training device. The learning rate at progress $t \in [0, 1]$ of training is
#
# $$
# \eta(t) = \eta_0 \cdot 0.2^{\,|\{m \in \{0.3,\, 0.6,\, 0.8\} \,:\, t \ge m\}|}.
# $$
#
# The profile this page was computed with:

# %% tags=["remove-input"]
profiles.table(P)

# %% [markdown]
# ## Full-data accuracy
#
# We train the profile's network on the full training set with several seeds. These runs are
# the reference line of every pruning plot that follows, and they are also the *scoring runs*:
# each keeps checkpoints at initialisation, at 10% of training (the paper's epoch 20 of 200)
# and at the end, and counts forgetting events, for the score chapters.

# %%
sweep.sweep("setup", P, store.root, engine=engine, progress=None, force=force)  # computes what is missing
records = bank.scoring_runs(P, store)  # then reads the runs back
summary = bank.baseline_summary(records)
write_summary(P.name, "setup", summary)

# %% tags=["remove-cell"]
acc = stats.summarize([r.metrics["test_acc"] for r in records])
glue("acc_text", acc.text(), display=False)
glue("epochs", P.epochs, display=False)
glue("model", P.model, display=False)
glue("seconds", f"{summary['train_seconds_mean']:.0f} s", display=False)
glue("img_s", f"{summary['img_per_s_mean']:,.0f}", display=False)
glue("device", summary["device"], display=False)

# %% [markdown]
# Trained for {glue:text}`epochs` epochs, the {glue:text}`model` network reaches a test
# accuracy of {glue:text}`acc_text` (mean ± standard deviation across seeds). One run takes
# {glue:text}`seconds` of training on the {glue:text}`device` ({glue:text}`img_s` images per
# second, evaluation excluded).

# %% tags=["remove-input"]
history = bank.baseline_history(records)
plots.curves_by_seed(history, "test_acc", "test accuracy (%)", "Test accuracy during training") & \
    plots.curves_by_seed(history, "train_loss", "training loss (cross-entropy, nats)",
                         "Training loss (augmented batches)", percent=False)

# %% [markdown]
# The thin lines are single seeds and the thick line their mean; the learning rate falls at
# 30%, 60% and 80% of the epochs shown.
#
# ## What this scale changes
#
# A few epochs of a small net are far from the papers' 200 epochs of ResNet-18, which reach
# about 95% on CIFAR-10. Which examples are worth keeping depends on this regime: Sorscher et
# al. (2022) predict that keeping hard examples helps only when the model can fit the data,
# and hurts when it cannot. The pruning chapters therefore state the budget with every
# verdict and vary it where they can.
