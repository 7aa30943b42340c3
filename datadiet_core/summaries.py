"""Each chapter's section of ``summary.json``, built from the store (read only).

One function per chapter: its notebook, ``python -m datadiet_core summarize`` and the tests call
the same one, so the numbers a chapter states are computed, and tested, once for every profile.
Nothing here computes a run: a missing one raises :class:`MissingResults` with the sweep
command. A regime whose grid is still computing gets C2's and C3's sections from their headline's
cells alone once those are stored, marked with what is still to run (:func:`whole_or_headline`);
until then ``progress`` counts the headline runs stored (:func:`progress`).
"""
from __future__ import annotations

from typing import Any, Callable, Container

from . import MissingResults, ParameterError, bank, c1, c2, c3, c3_picks, c3_settings, headlines
from .profiles import Profile
from .store import Store, write_summary


def setup(P: Profile, store: Store) -> dict[str, Any]:
    """The training setup: the scoring runs as the full-data baseline, and the setup variants."""
    out = bank.baseline_summary(bank.scoring_runs(P, store))
    if P.setup_variants:
        out["variants"] = bank.variants_summary(P, store)
    return out


def claim1(P: Profile, store: Store) -> dict[str, Any]:
    """C1: the correlations, their curves against the number of models averaged, the ratio's fit."""
    tables = c1.load(P, store)
    return c1.summary(P, tables["curves"], c1.ratio(P, store)["fit"], tables["correlations"])


def claim2(P: Profile, store: Store) -> dict[str, Any]:
    """C2: the comparisons with random, the early checkpoint's place in training and every budget
    convention the grid ran (:func:`whole_or_headline`: from the headline's cells alone while the
    side analyses compute)."""
    return whole_or_headline("c2", _claim2, P, store)


def _claim2(P: Profile, store: Store) -> dict[str, Any]:
    runs = c2.load(P, store)
    out = c2.summary(P, runs, c2.differences(runs))
    out["early_checkpoint"] = bank.early_checkpoint(P, store)
    out["budget_conventions"] = c2.budget_conventions(P, store, runs)
    return out


def claim3(P: Profile, store: Store) -> dict[str, Any]:
    """C3: the comparisons, speed-ups and verdicts, and the diagnosis of the loss-driven selectors
    (:func:`whole_or_headline`: from the headline's cells alone while the others compute; the
    diagnosis is added as soon as its own runs are all stored)."""
    out = whole_or_headline("c3", _claim3, P, store)
    if "collapse" not in out and out["headline"].get("pending"):
        try:
            _add_collapse(P, store, out)
        except MissingResults:
            pass
    return out


def _claim3(P: Profile, store: Store) -> dict[str, Any]:
    runs = c3.load(P, store)
    return _add_collapse(P, store, c3_settings.add_settings(P, runs, c3.summary(P, runs)))


def _add_collapse(P: Profile, store: Store, out: dict[str, Any]) -> dict[str, Any]:
    """``out`` with ``collapse``, the diagnosis of the loss-driven selectors
    (:func:`c3_picks.collapse_summary`), where the grid runs them (a headline-only grid has none,
    though it may hold the runs shown beside them, :data:`c3_picks.SHOWN_BESIDE`)."""
    checks = c3_picks.divergence_checks(P, store)
    if len(checks) and checks.selector.isin(c3_picks.COLLAPSE_SELECTORS).any():
        out["collapse"] = c3_picks.collapse_summary(P, checks)
    return out


def whole_or_headline(claim: str, build: Callable[[Profile, Store], dict[str, Any]], P: Profile,
                      store: Store) -> dict[str, Any]:
    """A claim's section, ``build(P, store)``; while only its headline's cells are stored (a regime
    whose other cells are still computing), built from those (:func:`headlines.headline_profile`)
    with ``headline.pending`` naming what is still to run (:func:`headlines.pending`). Neither
    stored: the whole grid's :class:`MissingResults`, whose sweep command computes both."""
    try:
        return build(P, store)
    except MissingResults as whole:
        H = headlines.headline_profile(claim, P)
        if H == P:
            raise
        try:
            out = build(H, store)
        except MissingResults:
            raise whole from None
    out["headline"]["pending"] = headlines.pending(claim, P, store)
    return out


def progress(P: Profile, store: Store, built: Container[str] = ()) -> dict[str, Any]:
    """Per claim (C2, C3) not in ``built`` (the sections :func:`build` could write) whose headline's
    runs are not all stored yet: how many are, of how many, and the command that computes the rest
    (:func:`headlines.progress`). Empty once every headline is stored (and then left out of the
    summary); a claim whose section was built is not read again."""
    return {c: p for c in headlines.CELLS if c not in built
            and (p := headlines.progress(c, P, store))["stored"] < p["runs"]}


SECTIONS: dict[str, Callable[[Profile, Store], dict[str, Any]]] = {
    "setup": setup, "c1": claim1, "c2": claim2, "c3": claim3}
NAMES = (*SECTIONS, "progress")  # every section of summary.json: ``progress`` is derived from the others


def build(P: Profile, store: Store, sections: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Every section of ``sections`` (default: all) whose runs are all stored (the others are left
    out); C2's and C3's also while only their headline's cells are (:func:`whole_or_headline`);
    ``progress`` only while some headline's runs are not all stored."""
    sections = NAMES if sections is None else sections
    unknown = [s for s in sections if s not in NAMES]
    if unknown:
        raise ParameterError(f"parameter 'sections' must name sections from {', '.join(NAMES)}; got {unknown!r}")
    out = {}
    for name in (s for s in sections if s in SECTIONS):
        try:
            out[name] = SECTIONS[name](P, store.reader())
        except MissingResults:
            continue
    if "progress" in sections and (counted := progress(P, store.reader(), built=out)):
        out["progress"] = counted
    return out


def write(P: Profile, store: Store, sections: tuple[str, ...] | None = None) -> list[str]:
    """Write into ``results/<profile>/summary.json`` every section of :func:`build`; returns the
    sections written."""
    built = build(P, store, sections)
    for name, values in built.items():
        write_summary(P.name, name, values)
    if "progress" not in built and (sections is None or "progress" in sections):
        write_summary(P.name, "progress", None)  # a count left from before every headline was stored
    return list(built)
