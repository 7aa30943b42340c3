"""datadiet_core: the thin library behind the datadiet reproducibility book.

The data flows one way, each module importing only those above it in this list
(``tests/test_layout.py`` checks it):

- ``transfer``  files moved between hosts in parts of a chosen size, checked by sha256
- ``data``      datasets in their original order, verified by hash; class counts; export/import
- ``tensors``   images as training tensors: normalisation, both recipes' batched augmentations
- ``devices``   the training device, its name for manifests, the autocast precision there
- ``models``    the model registry (fast CPU net, airbench-class net, CIFAR ResNets, linear softmax)
- ``stats``     spreads across seeds, bootstrap and Welch intervals, the one comparison routine
- ``selection`` which rows to keep: static rules, every dynamic selector and their registry
- ``profiles``  the ``smoke`` / ``cpu`` / ``gpu`` / ``airbench`` / ``paper`` profiles and parameter
  validation
- ``recipe``    a profile's learning-rate schedule, optimiser groups and lookahead (papers' or airbench's)
- ``engine``    the compiled training step (torch.compile, once per process)
- ``train``     the one training function (data, net, optimiser, loop, evaluation: the papers' recipe
  or the airbench-class one, hooks, checkpoints), eager or compiled
- ``scores``    per-example scores: GraNd, EL2N, input norm, forgetting (float64-tested)
- ``store``     the content-addressed result store under ``results/`` (read-only views for loaders)
- ``runs``      a training run through the store: its key, the run, its history and checkpoints
- ``bank``      the shared runs: scoring runs, score entries, the score bank
- ``dynamic``   dynamic-selection runs (re-selecting the subset during training)
- ``c1``, ``c2``, ``c3``  one module per claim: its grid, a read-only loader, summary, headline and verdict rules
- ``c2_picks``  what C2's subsets are: class counts, rank correlations, how rankings settle
- ``c3_settings`` C3's other settings: the period sweep, equal iterations, class-imbalanced CIFAR-10
- ``c3_picks``  what C3's selectors pick: selection counts, class shares, the collapse diagnosis
- ``exports``   per-example score files (npz, csv.gz, manifest) and the C2 grid's subsets on demand
- ``headlines`` the cells each claim's headline reads, computed first, and what they leave to run
- ``summaries`` each chapter's section of ``summary.json``, built from the store (notebooks, CLI, tests)
- ``report``    labels, cells, verdicts in parts: what every chapter writes
- ``report_c1`` chapter C1's text and tables
- ``report_c2`` chapter C2's text and tables
- ``report_c3`` chapter C3's text and tables
- ``report_c3_cost`` chapter C3's cost: wall-clock, speed-ups, throughput, the period sweep
- ``regimes``   every regime's headlines side by side: the introduction's table, each chapter's agreement
- ``plots``     altair charts that render offline
- ``sweep``     the only thing that computes: a claim's grid into the store, locally or on Ray
- ``book``      executes the notebooks with papermill and builds the Jupyter Book
- ``bench``     throughput of our training path beside a plain loop, per engine
- ``stretch``   one stretch on a lent GPU host: data import, bench, sweeps, results export
- ``cli``       ``python -m datadiet_core ...``
"""

__version__ = "0.1.0"

# Bump when stored results change meaning (a score definition, the training loop, a data
# route). It is part of every store key, so old entries are simply not found any more.
CODE_VERSION = "1"


class ParameterError(ValueError):
    """A parameter is invalid. The message is one line naming the parameter and what is allowed."""


class MissingResults(LookupError):
    """A loader asked the store for runs that are not there. Loaders never compute: the message is
    one line naming the missing runs and the ``sweep`` command that computes them."""


class DataError(RuntimeError):
    """A dataset is missing, cannot be fetched, or fails its hash check."""
