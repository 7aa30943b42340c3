"""datadiet_core: the thin library behind the datadiet reproducibility book.

Each module has one job:

- ``data``      datasets in their original order, normalisation, batched augmentation, variants
- ``models``    the model registry (fast CPU net, CIFAR ResNets, linear softmax)
- ``train``     the one training function (SGD + Nesterov, step schedule, hooks, checkpoints)
- ``store``     the content-addressed result store under ``results/``
- ``profiles``  the ``smoke`` / ``cpu`` / ``paper`` profiles and parameter validation
- ``stats``     spreads across seeds and bootstrap intervals
- ``plots``     altair charts that render offline
- ``book``      executes the notebooks with papermill and builds the Jupyter Book
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
