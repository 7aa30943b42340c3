"""The cells each claim's headline reads, computed before the rest of a regime's grid.

A regime's grid takes many hours on 2 cores. Its C2 and C3 headlines read only part of it, so
``sweep --headline`` computes that part first, and ``summaries`` states the headline from it
while the rest computes, naming what is still to run. Owns, per claim, the profile whose grid
is those cells alone (:func:`headline_profile`) and what that profile leaves out
(:func:`pending`). The cells are the same runs as in the whole grid, so nothing is recomputed.
"""
from __future__ import annotations

from typing import Any

from . import ParameterError, c2, c3
from .profiles import Profile
from .runs import sweep_command
from .selection import SELECTORS

# The grid fields whose cells no part of a headline reads, each emptied by headline_profile
# (C2's side scores keep the parts' scores and its budgets the headline's; C3's core keeps
# c3.HEADLINE_SELECTORS and its budgets the longest).
SIDE_FIELDS = {"c2": ("c2_side_scores", "c2_per_class", "c2_rule_scores", "regime_epochs", "c2_budgets",
                      "c2_cross_scores"),
               "c3": ("c3_core", "c3_side_selectors", "c3_iterations", "c3_variants", "c3_imbalanced_rates",
                      "c3_periods", "c3_epochs")}


def _c2_cells(P: Profile) -> Profile:
    """C2's headline (:func:`c2.headline`) reads keep-highest by its parts' scores and random at
    every fraction and GraNd early at 50% pruned, under the headline's budget convention (and,
    with ``P.predrop``, the pre-drop readings beside it). Its cells keep every score of
    ``P.c2_scores`` at every fraction, input norm included, as the headline grid of issue 26 lists it."""
    return P.replace(c2_side_scores=[s for s in P.c2_side_scores if s in c2.PARTS], c2_per_class=[],
                     c2_rule_scores=[], regime_epochs=[], c2_budgets=[P.c2_budget], c2_cross_scores=[])


def _c3_cells(P: Profile) -> Profile:
    """C3's headline (:func:`c3.headline`) reads full data and ``P.c3_core``'s selectors of
    :data:`c3.HEADLINE_SELECTORS` (random dynamic, static random, static EL2N) at every rate of
    ``P.c3_rates`` and the longest budget."""
    return P.replace(c3_core=[s for s in P.c3_core if s in c3.HEADLINE_SELECTORS], c3_side_selectors=[],
                     c3_iterations=[], c3_variants=[], c3_imbalanced_rates=[], c3_periods=[],
                     c3_epochs=[max(P.c3_epochs)])


CELLS = {"c2": _c2_cells, "c3": _c3_cells}


def headline_profile(claim: str, P: Profile) -> Profile:
    """``P`` with every cell that no part of ``claim``'s headline reads left out of its grid."""
    if claim not in CELLS:
        raise ParameterError(f"parameter 'headline' applies to claims c2 and c3; got {claim!r}")
    return CELLS[claim](P)


def pending(claim: str, P: Profile) -> dict[str, Any]:
    """What :func:`headline_profile` leaves out of ``P``'s grid: per field of :data:`SIDE_FIELDS`
    the values only ``P`` has (C3's side selectors None: every selector not in ``P.c3_core``),
    the context a sentence needs (C2's budget convention, C3's side rates) and the command that
    computes the rest."""
    H, Q = headline_profile(claim, P), P
    if claim == "c3" and P.c3_side_selectors is None:
        Q = P.replace(c3_side_selectors=[s for s in SELECTORS if s not in P.c3_core])
    out: dict[str, Any] = {k: [v for v in getattr(Q, k) if v not in getattr(H, k)] for k in SIDE_FIELDS[claim]}
    out = {k: v for k, v in out.items() if v}
    context = {"c2_budget": P.c2_budget} if claim == "c2" else {"c3_side_rates": list(P.c3_side_rates)}
    return {**out, **context, "command": sweep_command(claim, P)}
