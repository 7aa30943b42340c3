"""Both regimes side by side: the headlines of every profile whose results the book sets together
(:data:`REGIMES`: the cpu profile's fast net for a few epochs, the gpu profile's ResNet-18 with
the papers' recipe), read from each ``results/<profile>/summary.json`` (never computed here).

Owns the introduction's verdict table, one column per regime (:func:`verdict_table`), and, per
claim, the table of its headline in each regime (:func:`claim_table`) with the sentence that
says whether the regimes agree or the regime changes the answer (:func:`agreement`). Every
verdict comes from its chapter's own rule; nothing here re-judges a result.
"""
from __future__ import annotations

from typing import Any

from .report import CLAIMS, cell, effect_text, published_text
from .store import read_summary

REGIMES = ("cpu", "gpu")  # the profiles whose committed results are set side by side


def regime_profiles(build: str) -> list[str]:
    """The profiles a book built with profile ``build`` shows: its own first, then :data:`REGIMES`."""
    return [build] + [p for p in REGIMES if p != build]


def read_summaries(profiles: list[str]) -> dict[str, dict[str, Any]]:
    """Each profile's ``summary.json`` (empty where none is committed), in the order given."""
    return {p: read_summary(p) for p in profiles}


def _headline(summaries: dict[str, dict[str, Any]], profile: str, claim: str) -> dict[str, Any] | None:
    return summaries.get(profile, {}).get(claim, {}).get("headline")


# Besides its headline effect, the comparisons a reader needs to weigh a claim's verdict.
MORE_EFFECTS = {"c2": (("grand_init", "GraNd@init minus random at 50% pruned"),),
                "c3": (("random_dynamic_vs_random_static", "random dynamic minus static random at 70% pruned"),
                       ("random_dynamic_vs_full_at_0.8", "random dynamic minus full data at 80% pruned"))}


def _more_effects(claim: str, h: dict[str, Any]) -> str:
    return "".join(f"; {text}: {cell(e['effect'], *e['ci'])} points" + (f", {e['direction']}" if e.get("direction") else "")
                   for key, text in MORE_EFFECTS.get(claim, ()) if (e := h["effects"].get(key)))


def _regime_cell(claim: str, h: dict[str, Any] | None) -> str:
    if not h:
        return "not computed yet"
    return (f"**{h['verdict']}**: {h['effect_name'].split(' (')[0]}: {effect_text(claim, h)}"
            f"{_more_effects(claim, h)}. *At {h['regime']}.*")


def verdict_table(summaries: dict[str, dict[str, Any]]) -> str:
    """The introduction's verdict table (MyST markdown): one row per claim, the published figure,
    then one column per regime (profile, in the order of ``summaries``) with the headline its
    chapter computed (verdict, effect with its 95% interval, regime); a regime whose chapter has
    not run says so."""
    profiles = list(summaries)
    lines = ["| claim | published | " + " | ".join(f"`{p}` regime" for p in profiles) + " |",
             "|---" * (2 + len(profiles)) + "|"]
    for key, (name, statement, doc) in CLAIMS.items():
        heads = [_headline(summaries, p, key) for p in profiles]
        published = next((published_text(key, h) for h in heads if h), "—")
        lines.append(f"| [{name}](../{doc}.ipynb): {statement} | {published} | "
                     + " | ".join(_regime_cell(key, h) for h in heads) + " |")
    return "\n".join(lines) + "\n"


def claim_table(claim: str, summaries: dict[str, dict[str, Any]]) -> str:
    """One row per regime (MyST markdown, shown whole: a data frame would cut the long cells):
    the claim's headline verdict, effect with its interval, seeds in the cells compared, and the
    regime (net, epochs, full-data accuracy)."""
    lines = ["| profile | verdict | effect [95% interval] | seeds | regime |", "|---|---|---|---|---|"]
    for p in summaries:
        h = _headline(summaries, p, claim)
        lines.append(f"| `{p}` | **{h['verdict']}** | {h['effect_name'].split(' (')[0]}: {effect_text(claim, h)} | "
                     f"{h.get('seeds', '')} | {h['regime']} |" if h else f"| `{p}` | not computed yet | | | |")
    return "\n".join(lines) + "\n"


def agreement(claim: str, summaries: dict[str, dict[str, Any]]) -> str:
    """Whether the regimes that have a headline for ``claim`` agree on its verdict, in one or two
    sentences of plain text (a glued sentence is not parsed as markdown); regimes not computed yet
    are named as such."""
    name = CLAIMS[claim][0]
    have = {p: _headline(summaries, p, claim) for p in summaries}
    done = {p: h for p, h in have.items() if h}
    missing = [p for p, h in have.items() if not h]
    later = (f" The {' and '.join(p for p in missing)} regime{'s have' if len(missing) > 1 else ' has'} no "
             "results committed yet.") if missing else ""
    if len(done) < 2:
        only = next(iter(done), None)
        return ((f"Only the {only} regime has a verdict on claim {name} so far, so this book cannot yet say "
                 "whether the regime changes the answer." if only else f"No regime has a verdict on claim {name} yet.")
                + later)
    verdicts = {h["verdict"] for h in done.values()}
    regimes = "; ".join(f"{p}: {h['verdict']} at {h['regime']}" for p, h in done.items())
    if len(verdicts) == 1:
        return f"The regimes agree: claim {name} {verdicts.pop()} in every regime computed ({regimes}).{later}"
    return f"The regime changes the answer on claim {name} ({regimes}).{later}"
