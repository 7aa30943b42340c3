"""The cells each claim's headline reads, computed before the rest of a regime's grid.

A regime's grid takes many hours on 2 cores. Its C2 and C3 headlines read only part of it, so
``sweep --headline`` computes that part first, and ``summaries`` states the headline from it
while the rest computes, naming what is still to run. Owns, per claim, the profile whose grid
is those cells alone (:func:`headline_profile`), how many of them are stored (:func:`progress`)
and what of the rest is not yet in the store (:func:`pending`). The cells are the same runs as in the whole grid, so nothing is recomputed.
"""
from __future__ import annotations

from typing import Any

from . import MissingResults, ParameterError, c2, c3
from .profiles import Profile
from .runs import partition, sweep_command
from .selection import SELECTORS, TABLE1_SELECTORS
from .store import Store

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
# Side fields a section stated from the headline's cells alone reads as soon as their cells are
# stored (the diagnosis of the loss-driven selectors: summaries._add_collapse), so never "stored".
READ_WHEN_STORED = {"c3_variants"}


def headline_profile(claim: str, P: Profile) -> Profile:
    """``P`` with every cell that no part of ``claim``'s headline reads left out of its grid."""
    if claim not in CELLS:
        raise ParameterError(f"parameter 'headline' applies to claims c2 and c3; got {claim!r}")
    return CELLS[claim](P)


def _grid(claim: str, P: Profile) -> list[Any]:
    return (c2.grid if claim == "c2" else c3.grid)(P)


def _missing(claim: str, P: Profile, store: Store, specs: list[Any]) -> set[Any]:
    """The cells of ``specs`` (of ``claim``'s grid under ``P``) not in ``store``, found by reading
    (never computing) each one as its chapter's loader does."""
    return set(partition(specs, (c2 if claim == "c2" else c3).read_spec(P, store))[1])


def progress(claim: str, P: Profile, store: Store) -> dict[str, Any]:
    """How many of ``claim``'s headline runs (:func:`headline_profile`'s grid) ``store`` holds, of
    how many, and the command that computes the rest (read, never computed)."""
    H = headline_profile(claim, P)
    specs = _grid(claim, H)
    try:
        stored = len(partition(specs, (c2 if claim == "c2" else c3).read_spec(H, store))[0])
    except MissingResults:  # the shared runs it reads by (scoring runs, score bank) are missing
        stored = 0
    return {"stored": stored, "runs": len(specs), "command": f"{sweep_command(claim, P)} --headline"}


def pending(claim: str, P: Profile, store: Store) -> dict[str, Any]:
    """What of ``P``'s grid is still to run once :func:`headline_profile`'s cells are stored: per
    field of :data:`SIDE_FIELDS`, the values only ``P`` has whose cells (those the grid loses
    without the value) are not all in ``store`` (C3's side selectors None: every selector not in
    ``P.c3_core``); ``runs``, how many cells are missing in all; the context a sentence needs
    (C2's budget convention; C3's side rates, the rates of the core selectors' missing cells and
    Raju et al.'s Table 1 probes still to run, which its variants field builds on) and the command
    that computes the rest. Also ``stored`` where any: per field, the values whose cells are all
    stored but not read while the headline is stated from its cells alone (C3's with
    ``c3_core_rates``, the rates of the stored core selectors' cells)."""
    H, Q = headline_profile(claim, P), P
    if claim == "c3" and P.c3_side_selectors is None:
        Q = P.replace(c3_side_selectors=[s for s in SELECTORS if s not in P.c3_core])
    whole, headline = set(_grid(claim, Q)), set(_grid(claim, H))
    missing = _missing(claim, P, store, list(whole - headline))
    out: dict[str, Any] = {}
    left: dict[str, set[Any]] = {}  # per field, its values' missing cells
    stored: dict[str, Any] = {}  # per field, the values whose cells are all in the store
    kept: set[Any] = set()  # the stored core selectors' cells
    for k in SIDE_FIELDS[claim]:
        for v in [v for v in getattr(Q, k) if v not in getattr(H, k)]:
            cells = whole - set(_grid(claim, Q.replace(**{k: [x for x in getattr(Q, k) if x != v]})))
            if k == "c3_variants":  # Table 1's probes need the per-class runs, but are no variant of the diagnosis
                cells = {s for s in cells if s.selector not in TABLE1_SELECTORS}
            if cells & missing:
                out.setdefault(k, []).append(v)
                left.setdefault(k, set()).update(cells & missing)
            elif cells and k not in READ_WHEN_STORED:
                stored.setdefault(k, []).append(v)
                kept.update(cells if k == "c3_core" else ())
    if kept:
        stored["c3_core_rates"] = sorted({s.prune for s in kept})
    if stored:
        out["stored"] = stored
    if claim == "c2":
        return {**out, "runs": len(missing), "c2_budget": P.c2_budget, "command": sweep_command(claim, P)}
    probes = sorted({s.selector for s in missing if s.selector in TABLE1_SELECTORS})
    core_rates = sorted({s.prune for s in left.get("c3_core", ())})
    return {**out, **({"c3_core_rates": core_rates} if core_rates else {}), **({"table1_probes": probes} if probes else {}),
            "runs": len(missing), "c3_side_rates": list(P.c3_side_rates), "command": sweep_command(claim, P)}
