"""Chapter C1's text and tables: the verdict paragraph, the log-normal fit of GraNd@init / ||x||,
the Fashion-MNIST check and the published correlations, from the summary and tables :mod:`c1`
computes (nothing here computes a result). Labels and cells are :mod:`report`'s.
"""
from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from .c1 import PUBLISHED_RHO
from .models import NET_NAMES
from .report import and_list, effect_text, headline_sentence, label, verdict_phrase


def c1_verdict_text(summary: dict[str, Any]) -> str:
    """The chapter's closing paragraph, built from the computed verdicts and numbers: the headline,
    the rule, then where it holds (each architecture's ρ and interval are in the table above it)."""
    v, t = summary["verdict"], summary["strong_threshold"]
    rule = (f"Rule: it holds where the 95% interval of Spearman's ρ between GraNd at initialisation (averaged over "
            f"{summary['k_inits']} initialisations) and the input norm lies at or above {t}, and fails where it "
            f"lies below. ")
    by = {}  # verdict -> the nets that got it (each net's verdict is the headline's rule, read per net)
    for m, e in summary["headline"]["effects"].items():
        by.setdefault(e["verdict"], []).append(net_name(m))
    if len(by) == 1:
        scope = f"On CIFAR-10 it {verdict_phrase(next(iter(by)))} for every architecture tested. "
    else:
        scope = ("On CIFAR-10 it " + and_list([f"{verdict_phrase(w)} for {' and '.join(nets)}" for w, nets in by.items()])
                 + ": whether GraNd at initialisation reduces to the input norm depends on the architecture. ")
    fashion = ("On Fashion-MNIST, by the same rule: " + "; ".join(
        f"{net_name(m)}, {_fashion_rho(summary, m)}, it {verdict_phrase(summary['verdict_fashion_mnist'][m])}"
        for m in summary["spearman_fashion_mnist"]) + ". ") if summary["spearman_fashion_mnist"] else ""
    start = summary.get("score_pairs", {}).get("grand_init_vs_input_norm")
    since = f"from ρ = {start[0]:.3f} [{start[1]:.3f}, {start[2]:.3f}] at initialisation " if start else ""
    fade = (f"For the {summary['model']} network the correlation "
            f"{'falls' if v['fades_with_training'] else 'does not fall clearly'} with training, {since}to "
            f"{rho_text(summary, 'spearman_end')} at the end (both with the {summary['k_trained']} scoring runs' "
            f"networks averaged), "
            f"{'as an effect of random initialisation would' if v['fades_with_training'] else 'so the link is not only an effect of initialisation'}.")
    return headline_sentence("c1", summary["headline"]) + " " + rule + scope + fashion + fade


def rho_text(summary: dict[str, Any], key: str) -> str:
    """Spearman's ρ stored under ``key`` with its 95% bootstrap interval over examples (``key_ci``),
    "0.425 [0.410, 0.440]"; the ρ alone where an older summary has no interval."""
    ci = summary.get(f"{key}_ci")
    return f"{summary[key]:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def net_name(model: str) -> str:
    """A net as a reader names it in a list or a legend ("ResNet-18", "linear softmax")."""
    return NET_NAMES.get(model, model).removeprefix("the ")


def by_model_text(summary: dict[str, Any]) -> str:
    """Spearman's ρ of GraNd at initialisation with the input norm per net, in a list."""
    return ", ".join(f"{net_name(m)} {r:.3f}" for m, r in summary["spearman_by_model"].items())


def scored_text(summary: dict[str, Any]) -> str:
    """How many images of each split every net of the chapter is scored on (the profile's own net
    on all of them; the others, where the profile runs them, on its ``c1_images`` and
    ``c1_resnet_images``)."""
    sizes = summary["images_by_model"]
    own = summary["model"]
    parts = [f"{net_name(own)} on every image of both splits ({sizes[own]:,} for training)"] + [
        f"{net_name(m)} on the first {n:,} of each split" for m, n in sizes.items() if m != own]
    return "Images scored: " + "; ".join(parts) + "."


def fashion_intro(summary: dict[str, Any]) -> str:
    """The lead-in of the chapter's second-dataset section: the nets scored on Fashion-MNIST, or
    that the profile scores no second dataset."""
    rho = summary["spearman_fashion_mnist"]
    if not rho:
        return "This profile scores no second dataset (the papermill parameter c1_fashion adds it)."
    return ("The same analysis on Fashion-MNIST (28×28 grey images), for "
            + " and ".join(net_name(m) for m in rho) + ":")


def reference_rho(models: Iterable[str]) -> tuple[float | None, str]:
    """The published ρ a chart of ``models`` draws as its reference line, with its label:
    ResNet-18's (Kirsch's 0.963) where the chart has that net, else the nearest published figure
    for the first net that has one (:data:`c1.PUBLISHED_RHO`); (None, "") where none has."""
    models = list(models)
    for m in sorted(models, key=lambda m: m != "resnet18"):
        if m in PUBLISHED_RHO:
            rho, source = PUBLISHED_RHO[m]
            return rho, f"{source}: {rho}"
    return None, ""


def c1_ratio_text(fit: dict[str, float], log_norm_sd: float) -> str:
    """The log-normal fit of GraNd@init / ||x|| (:func:`c1.ratio`) beside the spread of log ||x||:
    since log GraNd = log ||x|| + log ratio, the rankings agree when σ is small against that spread."""
    return (f"Fitted log-normal: μ = {fit['mu']:.3f}, σ = {fit['sigma']:.3f} (Kolmogorov-Smirnov distance "
            f"{fit['ks']:.3f}). Since log GraNd = log ‖x‖ + log(GraNd / ‖x‖), the two rankings agree when σ is small "
            f"against the spread of log ‖x‖ itself, {log_norm_sd:.3f} here (standard deviation), and part ways as σ "
            f"approaches it.")


def c1_fashion_text(summary: dict[str, Any]) -> str:
    """The C1 chapter's Fashion-MNIST sentence: ρ per model with its 95% bootstrap interval, all
    initialisations averaged, on the training split, or that the profile leaves the dataset out."""
    rho = summary["spearman_fashion_mnist"]
    if not rho:
        return ""  # the section's lead-in (:func:`fashion_intro`) says so
    return ("On Fashion-MNIST, all initialisations averaged, training split: "
            + ", ".join(f"{net_name(m)} {_fashion_rho(summary, m)}" for m in rho) + ".")


def _fashion_rho(summary: dict[str, Any], model: str) -> str:
    """A net's ρ on Fashion-MNIST with its 95% interval, as every C1 effect is written."""
    return effect_text("c1", {"effect": summary["spearman_fashion_mnist"][model],
                              "ci": summary["spearman_fashion_mnist_ci"][model]})


def c1_published_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Per architecture: our Spearman rho(GraNd@init, input norm) with its 95% interval, the
    images it is computed on, its reading against the threshold, and the published figure."""
    rows = [{"net": net_name(m), "images (training split)": f"{e['images']:,}",
             "ρ (ours) [95% interval]": f"{e['effect']:.3f} [{e['ci'][0]:.3f}, {e['ci'][1]:.3f}]",
             f"≥ {summary['strong_threshold']}?": e["verdict"],
             "ρ published": "—" if e["published"] is None else f"{e['published']:g}",  # as published: 0.38, 0.963
             "published by": e["published_source"] or "—"} for m, e in summary["headline"]["effects"].items()]
    return pd.DataFrame(rows).set_index("net")


def c1_pairs_table(pairs: pd.DataFrame, model: str) -> pd.DataFrame:
    """Kirsch's score pairs (:func:`c1.correlations`) by the scores' labels: ours with the 95%
    bootstrap interval beside his (ResNet-18, 200 epochs)."""
    return pd.DataFrame({"score a": pairs["score a"].map(label), "score b": pairs["score b"].map(label), "net": model,
                         "ρ (ours)": pairs["rho (ours)"].round(3), "95% interval": pairs["95% interval"],
                         "ρ (Kirsch 2023, ResNet-18)": pairs["rho (Kirsch 2023)"]}).set_index(["score a", "score b"])
