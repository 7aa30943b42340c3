"""Altair charts for the book, drawn offline.

Every chart has axis titles with units. :func:`enable_offline` registers a renderer that emits a
``<div>`` plus a ``vegaEmbed`` call; the vega libraries come from ``_static/vega-bundle.js``,
written once by :func:`write_vega_bundle` from ``vl-convert-python`` (no CDN at any point).
"""
from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
from pathlib import Path
from typing import Any, Sequence

import altair as alt
import numpy as np
from IPython.display import Markdown
from PIL import Image
import pandas as pd
import vl_convert as vlc

from . import c3, report_c1, report_c3, report_c3_cost
from .data import DATASET_NAMES
from .profiles import Profile
from .report import VARIANT_HEADINGS, comparison_labels, label, selection_label, show
from .stats import FEW_SEEDS, MIN_SEEDS

BUNDLE_NAME = "vega-bundle.js"


# --------------------------------------------------------------------------- offline rendering

def _vl_version() -> str | None:
    """vl-convert's name for the Vega-Lite version altair targets (e.g. 'v6.4'), if it has it."""
    major_minor = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    return "v" + major_minor if major_minor in vlc.get_vegalite_versions() else None


def write_vega_bundle(static_dir: str | Path) -> Path:
    """Write vega, vega-lite and vega-embed as one script exposing ``window.vegaEmbed``.

    The bundle is wrapped in an IIFE: unwrapped, its top-level names clash with Sphinx's ``_``.
    Idempotent: an existing identical file is left alone.
    """
    path = Path(static_dir) / BUNDLE_NAME
    code = vlc.javascript_bundle(snippet="window.vegaEmbed = vegaEmbed;", vl_version=_vl_version())
    js = "(function(){\n" + code + "\n})();\n"
    if not path.exists() or path.read_text(encoding="utf-8") != js:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(js, encoding="utf-8")
    return path


def script_json(obj: object) -> str:
    """JSON that is safe inside a <script>: '<', '>' and '&' become \\u escapes (lossless, as they
    only occur inside strings), so a '</script>' in a title cannot end the element."""
    s = json.dumps(obj, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
             .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


_chart_counter = itertools.count(1)


def _offline_renderer(spec: dict, **kwargs: object) -> dict:
    payload = script_json(spec)
    # Unique on a page, and stable across re-executions of the same notebook.
    div = f"vega-{next(_chart_counter)}-{hashlib.sha1(payload.encode()).hexdigest()[:10]}"
    html = (f'<div id="{div}" class="vega-chart"></div>\n<script type="text/javascript">\n'
            f'(function () {{\n  var el = document.getElementById("{div}");\n'
            f'  function draw() {{ vegaEmbed(el, {payload}, {{"actions": false, "renderer": "svg"}})'
            f'.catch(function (e) {{ el.textContent = "chart failed: " + e; console.error(e); }}); }}\n'
            f'  if (typeof window.vegaEmbed === "function") draw();\n'
            f'  else document.addEventListener("DOMContentLoaded", function () {{\n'
            f'    if (typeof window.vegaEmbed === "function") draw();\n'
            f'    else {{ el.textContent = "(chart: the vega bundle is not loaded here; open the built book)";\n'
            f'           console.error("vegaEmbed is not defined"); }} }});\n'
            f'}})();\n</script>')
    return {"text/html": html, "text/plain": f"<altair chart {div}>"}


def enable_offline() -> None:
    """Render altair charts as a div plus a vegaEmbed call against the bundled libraries."""
    alt.renderers.register("datadiet_offline", _offline_renderer)
    alt.renderers.enable("datadiet_offline")
    alt.data_transformers.disable_max_rows()


# --------------------------------------------------------------------------- images

def png_data_url(img: np.ndarray, scale: int = 2) -> str:
    """A uint8 HWC (or HW1) image as a ``data:image/png;base64`` URL, upscaled ``scale``x."""
    a = img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
    im = Image.fromarray(np.ascontiguousarray(a))
    if scale != 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def image_grid(images: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str],
               title: str, size: int = 48, row_title: str = "which image", col_title: str = "class") -> alt.Chart:
    """A grid of images (rows x cols, uint8 NHWC in row-major order) with labelled axes."""
    n_rows, n_cols = len(row_labels), len(col_labels)
    if len(images) != n_rows * n_cols:
        raise ValueError(f"image_grid needs {n_rows * n_cols} images, got {len(images)}")
    df = pd.DataFrame({"row": [row_labels[i // n_cols] for i in range(len(images))],
                       "col": [col_labels[i % n_cols] for i in range(len(images))],
                       "url": [png_data_url(im) for im in images]})
    return (alt.Chart(df, title=title)
            .mark_image(width=size, height=size)
            .encode(x=alt.X("col:N", sort=list(col_labels), title=col_title, axis=alt.Axis(labelAngle=-40)),
                    y=alt.Y("row:N", sort=list(row_labels), title=row_title),
                    url="url:N")
            .properties(width=n_cols * (size + 6), height=n_rows * (size + 6)))


# --------------------------------------------------------------------------- charts

def _legend(title: str, below: bool = False, columns: int = 2) -> alt.Legend:
    """A legend that shows its labels whole (long comparison names) and opaque symbols (the
    layers of a chart may be translucent bands); ``below``: under the chart in ``columns``
    columns, for long labels that would push a legend on the right out of the page."""
    extra: dict[str, Any] = {"orient": "bottom", "direction": "vertical", "columns": columns} if below else {}
    return alt.Legend(title=title, labelLimit=0, titleLimit=0, symbolOpacity=1, symbolStrokeWidth=3, **extra)


# One colour per score and per selector, the same in every chart, so that a reader who learns
# "UCB is green" on one figure can read the next. Scores (chapter C2) and selectors (chapter C3)
# are never drawn together, so each family only needs its colours to differ within itself: the
# scores' variants share their original's hue in a lighter shade (Vega's tableau20 pairs); the
# thirteen selectors get thirteen hues far apart (category10 and a few darker ones).
METHOD_COLORS = {
    "random": "#79706e", "input_norm": "#9e765f", "grand_init": "#e45756", "grand_init_restore_bug": "#ff9d98",
    "grand_early": "#54a24b", "grand_predrop": "#88d27a", "el2n_early": "#4c78a8", "el2n_predrop": "#9ecae9",
    "forgetting": "#b279a2",
    "random_dynamic": "#1f77b4", "random_static": "#7f7f7f", "el2n_static": "#ff7f0e",
    "el2n_epsilon_static": "#bcbd22", "forgetting_static": "#8c564b", "uncertainty_ema": "#9467bd",
    "epsilon_greedy": "#e377c2", "ucb": "#2ca02c", "infobatch": "#17becf", "selective_backprop": "#d62728",
    "random_backprop": "#393b79", "always_plus_static": "#ad494a", "always_plus_random": "#637939",
    "full": "#000000",
}
_COLOR_OF_LABEL = {label(k): c for k, c in METHOD_COLORS.items()}


def _method_color(methods: Sequence[str], title: str, below: bool = False) -> alt.Color:
    """The colour channel of a chart with one mark per ``method`` (the labels of scores or
    selectors, in legend order): each in its colour of :data:`METHOD_COLORS`. Labels it has no
    colour for (comparisons "a − b") keep Vega's categorical scheme, distinct within the chart."""
    domain = list(dict.fromkeys(methods))
    if all(m in _COLOR_OF_LABEL for m in domain):
        scale = alt.Scale(domain=domain, range=[_COLOR_OF_LABEL[m] for m in domain])
        return alt.Color("method:N", sort=domain, scale=scale, legend=_legend(title, below))
    return alt.Color("method:N", sort=domain, legend=_legend(title, below))


def _dash_and_marker(field: str, title: str) -> dict[str, Any]:
    """Encodings that tell apart the lines of ``field`` by dash and by marker, with the legend on
    the markers (drawn in black): a legend of dashes alone draws no symbols when another channel
    colours the lines."""
    return {"strokeDash": alt.StrokeDash(f"{field}:N", legend=None),
            "shape": alt.Shape(f"{field}:N", legend=alt.Legend(title=f"{title} (dash, marker)", labelLimit=0, titleLimit=0,
                                                             symbolFillColor="black", symbolStrokeColor="black",
                                                             symbolOpacity=1))}


def class_counts(counts: pd.DataFrame, title: str) -> alt.Chart:
    """Bars of examples per class; ``counts`` has columns class, split, count."""
    return (alt.Chart(counts, title=title).mark_bar()
            .encode(x=alt.X("class:N", title="class", sort=None),
                    y=alt.Y("count:Q", title="examples (count)"),
                    color=alt.Color("split:N", legend=_legend("split")),
                    xOffset="split:N",
                    tooltip=["class", "split", "count"])
            .properties(width=420, height=220))


def curves_by_seed(history: pd.DataFrame, y: str, y_title: str, title: str,
                   percent: bool = True) -> alt.Chart:
    """One thin line per seed and the mean across seeds in bold, against training epochs.

    ``history`` has columns epoch, seed and ``y``.
    """
    fmt = ".0%" if percent else ".2f"
    base = alt.Chart(history, title=title).encode(x=alt.X("epoch:Q", title="training epoch (passes over the data)"))
    seeds = base.mark_line(opacity=0.35, strokeWidth=1).encode(
        y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)),
        detail="seed:N", tooltip=["seed", "epoch", alt.Tooltip(f"{y}:Q", format=".4f")])
    mean = base.mark_line(strokeWidth=3).encode(y=f"mean({y}):Q")
    return (seeds + mean).properties(width=420, height=240)


def rho_vs_k(curves: pd.DataFrame, color: str, title: str, reference: float | None = None,
             reference_label: str = "") -> alt.Chart | None:
    """Spearman rho against the number of models averaged, one line per ``color`` value and
    split, with the 95% bootstrap interval as a band; an optional published value as a rule.
    None when ``curves`` is empty (a dataset the profile leaves out)."""
    if curves.empty:
        return None
    if color == "model":  # the nets by the names a reader uses ("ResNet-18", not "resnet18")
        curves = curves.assign(model=curves.model.map(report_c1.net_name))
    d = curves.assign(series=curves[color] + " / " + curves["split"])
    base = alt.Chart(d).encode(
        x=alt.X("K:Q", title="models averaged, K (count)", axis=alt.Axis(tickMinStep=1)),
        # legend in the data's order (init, early, end), not alphabetical
        color=alt.Color(f"{color}:N", legend=_legend("network" if color == "model" else color),
                        sort=list(dict.fromkeys(d[color]))))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("lo:Q", title="Spearman ρ with ‖x‖₂ (unitless)"),
                                                 y2="hi:Q", detail="series:N")
    line = base.mark_line(point=alt.OverlayMarkDef(filled=True, size=50)).encode(
        y="rho:Q", detail="series:N", **_dash_and_marker("split", "split"),
        tooltip=[color, "split", "K", alt.Tooltip("rho:Q", format=".3f"), alt.Tooltip("lo:Q", format=".3f"),
                 alt.Tooltip("hi:Q", format=".3f"), "n"])
    layers = [band, line]
    heading: str | alt.TitleParams = title
    if reference is not None:  # named in the subtitle, so no label can sit on a curve
        ref = pd.DataFrame({"rho": [reference], "label": [reference_label]})
        layers.append(alt.Chart(ref).mark_rule(color="black", strokeDash=[2, 2]).encode(y="rho:Q", tooltip=["label"]))
        heading = alt.TitleParams(title, subtitle=f"dotted line: {reference_label}")
    return alt.layer(*layers, title=heading).properties(width=420, height=260)


def log_ratio_histogram(log_ratio: np.ndarray, mu: float, sigma: float, title: str, bins: int = 60) -> alt.Chart:
    """Histogram (as a density) of log(GraNd / ||x||) with the normal density of a log-normal fit."""
    counts, edges = np.histogram(log_ratio, bins=bins, density=True)
    hist = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "density": counts})
    xs = np.linspace(edges[0], edges[-1], 200)
    pdf = pd.DataFrame({"x": xs, "density": np.exp(-0.5 * ((xs - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))})
    bars = alt.Chart(hist).mark_rect(opacity=0.6).encode(
        x=alt.X("left:Q", title="log(GraNd / ‖x‖₂) (natural log, unitless)",
                scale=alt.Scale(zero=False, domain=[float(edges[0]), float(edges[-1])], nice=False)), x2="right:Q",
        y=alt.Y("density:Q", title="probability density (per unit of log ratio)"))
    fit = alt.Chart(pdf).mark_line(color="black").encode(x="x:Q", y="density:Q")
    return alt.layer(bars, fit, title=title).properties(width=420, height=240)


def _label(score: pd.Series) -> pd.Series:
    return score.map(label)


def accuracy_vs_pruned(acc: pd.DataFrame, full_mean: float, title: str, dashed: Sequence[str] = ()) -> alt.Chart:
    """Test accuracy against the fraction pruned, one line per score with its 16th-84th percentile
    band across seeds (Paul et al. Fig. 1) and full-data accuracy as a dashed rule; the lines of
    ``dashed`` (names: static selectors beside dynamic ones) dashed, so lines that coincide stay
    apart.

    ``acc`` has columns score, prune, mean, p16, p84, seeds."""
    d = acc.assign(method=_label(acc.score), kind=np.where(acc.score.isin(list(dashed)), "static", "dynamic"))
    color = _method_color([label(s) for s in acc.score], "pruned by", below=len(set(acc.score)) > 8)
    base = alt.Chart(d).encode(x=alt.X("prune:Q", title="fraction of training examples pruned",
                                       axis=alt.Axis(format=".0%")), color=color)
    y_title, y_axis, y_scale = "test accuracy (%, CIFAR-10)", alt.Axis(format=".0%"), alt.Scale(zero=False)
    yenc = alt.Y("mean:Q", title=y_title, axis=y_axis, scale=y_scale)
    spread = d[d.seeds >= MIN_SEEDS]  # a spread needs 3 seeds; a layer without rows is left out (an empty extent)
    band = [base.mark_area(opacity=0.12).encode(y=alt.Y("p16:Q", title=y_title, axis=y_axis, scale=y_scale),
                                                y2="p84:Q").properties(data=spread)] if len(spread) else []
    dash = _dash_and_marker("kind", "selector kind") if dashed else {}
    tooltip = ["method", alt.Tooltip("prune:Q", format=".0%"), alt.Tooltip("mean:Q", format=".2%"),
               alt.Tooltip("p16:Q", format=".2%"), alt.Tooltip("p84:Q", format=".2%"), "seeds"]
    # the static lines go on top with hollow markers, so one that coincides with a dynamic line
    # (random static and random dynamic can end at the same mean) still shows its markers around it
    dynamic, static = d[d.kind == "dynamic"], d[d.kind == "static"]
    lines = [base.mark_line(point=alt.OverlayMarkDef(filled=True, size=40)).encode(y=yenc, **dash, tooltip=tooltip)
             .properties(data=dynamic)] if len(dynamic) else []
    if len(static):  # the dashed line, then its markers whole (a dash would break their outline)
        lines += [base.mark_line().encode(y=yenc, **dash).properties(data=static),
                  base.mark_point(filled=False, size=90, strokeWidth=2, opacity=1).encode(
                      y=yenc, shape=dash["shape"], tooltip=tooltip).properties(data=static)]
    ref = pd.DataFrame({"mean": [full_mean], "label": ["full data"]})
    rule = alt.Chart(ref).mark_rule(color="black", strokeDash=[4, 3]).encode(y="mean:Q", tooltip=["label"])
    return alt.layer(*band, *lines, rule, title=title).properties(width=460, height=300)


def difference_to_random(diffs: pd.DataFrame, title: str, x: str = "prune",
                         y_title: str = "accuracy minus random (percentage points)",
                         legend: str = "pruned by") -> alt.Chart:
    """Accuracy minus random's (or any difference of two accuracies, named by ``y_title``) in
    percentage points with Welch's 95% interval, per score, against the fraction pruned
    (``x="prune"``) or the training budget (``x="epochs"``). A cell compared on fewer than 3
    seeds has no interval (``lo``, ``hi`` NaN): it is drawn as a hollow point and none is drawn."""
    if "score" not in diffs:  # a comparison of two selectors (columns a, b): name it "a − b"
        diffs = comparison_labels(diffs)
    has = np.isfinite(diffs.lo.astype(float)) & np.isfinite(diffs.hi.astype(float))
    d = diffs.assign(method=_label(diffs.score), diff_pp=diffs["diff"] * 100,
                     lo_pp=np.where(has, diffs.lo.astype(float) * 100, np.nan),
                     hi_pp=np.where(has, diffs.hi.astype(float) * 100, np.nan),
                     interval=np.where(has, "95% interval (Welch)", FEW_SEEDS))
    if x == "prune":
        xenc = alt.X("prune:O", title="fraction of training examples pruned", axis=alt.Axis(format=".0%", labelAngle=0))
    else:
        xenc = alt.X("epochs:O", title="training budget (epochs of full-data iterations)", axis=alt.Axis(labelAngle=0))
    base = alt.Chart(d).encode(x=xenc, xOffset=alt.XOffset("method:N", sort=list(dict.fromkeys(d.method))),
                               color=_method_color(d.method, legend, below=True))
    y_axis = alt.Axis(format="+.0f", labelExpr="datum.value == 0 ? '0' : datum.label")  # "0", not "+0"
    y_scale = alt.Scale(padding=10)  # a point at the domain's end is drawn whole, not cut by the frame
    yenc = alt.Y("diff_pp:Q", title=y_title, axis=y_axis, scale=y_scale)
    bars = [base.mark_rule(strokeWidth=2).encode(y=alt.Y("lo_pp:Q", title=y_title, axis=y_axis, scale=y_scale), y2="hi_pp:Q")
            .properties(data=d[has])] if has.any() else []  # a layer without rows is left out (an empty extent)
    shapes = alt.Scale(domain=["95% interval (Welch)", FEW_SEEDS], range=["circle", "triangle-up"])
    point = {"y": yenc, "shape": alt.Shape("interval:N", scale=shapes, legend=_legend("point", below=True, columns=1)),
             "tooltip": ["method", x, "interval", alt.Tooltip("diff_pp:Q", format="+.1f", title="difference (points)"),
                         alt.Tooltip("lo_pp:Q", format="+.1f", title="95% low"),
                         alt.Tooltip("hi_pp:Q", format="+.1f", title="95% high")]}
    filled = [base.mark_point(size=60, filled=True, opacity=1).encode(**point).properties(data=d[has])] if has.any() else []
    hollow = [base.mark_point(size=70, filled=False, strokeWidth=2, opacity=1).encode(**point).properties(data=d[~has])
              ] if (~has).any() else []
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="black").encode(y="y:Q")
    return alt.layer(*bars, *filled, *hollow, zero, title=title).properties(width=460, height=280)


def regime_map(diffs: pd.DataFrame, title: str = "Accuracy minus random at 50% pruned, by training budget",
               prune: float = 0.5) -> alt.Chart | None:
    """The budget map: keep-highest minus random at ``prune`` by training budget, one point per
    score and budget (:func:`difference_to_random`); None when one budget ran only."""
    d = diffs[(diffs.rule == "keep_highest") & np.isclose(diffs.prune, prune)]
    if d.epochs.nunique() < 2:
        return None
    return difference_to_random(d, title, x="epochs")


def chart_or_note(shown: alt.Chart | pd.DataFrame | None, note: str) -> Any:
    """``shown`` (a chart or a non-empty table), or ``note`` as markdown where there is nothing to show
    (None for an empty note: a cell that ends in None shows nothing, an empty Markdown its repr)."""
    if shown is None or (isinstance(shown, pd.DataFrame) and shown.empty):
        return Markdown(note) if note else None
    return show(shown) if isinstance(shown, pd.DataFrame) else shown


def kept_per_class(counts: pd.DataFrame, title: str, y_title: str = "selection (score, rule)",
                   count_title: str = "examples kept (count)") -> alt.Chart:
    """Heatmap of how many examples of each class a selection keeps; ``counts`` has columns
    selection, class, count (selector names shown by their labels)."""
    counts = counts.assign(selection=counts.selection.map(selection_label))
    base = alt.Chart(counts, title=title).encode(
        x=alt.X("class:N", title="class", sort=None), y=alt.Y("selection:N", title=y_title, sort=None))
    heat = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="viridis"),
                                                   legend=alt.Legend(title=count_title, titleLimit=0,
                                                                     orient="bottom", gradientLength=300)),
                                   tooltip=["selection", "class", "count"])
    text = base.mark_text(fontSize=9).encode(text="count:Q", color=alt.value("white"))
    return (heat + text).properties(width=460, height=22 * counts.selection.nunique())


def spearman_heatmap(matrix: pd.DataFrame, title: str) -> alt.Chart:
    """Spearman rho between every pair of scores; ``matrix`` has columns a, b, rho."""
    d = matrix.assign(a=_label(matrix.a), b=_label(matrix.b))
    order = list(dict.fromkeys(d.a))
    base = alt.Chart(d, title=title).encode(x=alt.X("a:N", title="score", sort=order),
                                            y=alt.Y("b:N", title="score", sort=order))
    heat = base.mark_rect().encode(color=alt.Color("rho:Q", legend=alt.Legend(title="Spearman ρ (unitless)", titleLimit=0),
                                                   scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True)),
                                   tooltip=["a", "b", alt.Tooltip("rho:Q", format=".3f")])
    text = base.mark_text(fontSize=10).encode(text=alt.Text("rho:Q", format=".2f"))
    return (heat + text).properties(width=360, height=360)


def rank_reliability(curves: pd.DataFrame, title: str) -> alt.Chart:
    """Spearman rho of a score averaged over k runs with a reference, against k; ``curves`` has
    columns score, comparison, K, rho."""
    d = curves.assign(method=_label(curves.score))
    return (alt.Chart(d, title=title).mark_line(point=alt.OverlayMarkDef(filled=True, size=50))
            .encode(x=alt.X("K:Q", title="scoring runs averaged, k (count)", axis=alt.Axis(tickMinStep=1)),
                    y=alt.Y("rho:Q", title="Spearman ρ (unitless)", scale=alt.Scale(zero=False)),
                    color=_method_color(d.method, "score"),
                    **_dash_and_marker("comparison", "compared with"),
                    tooltip=["method", "comparison", "K", alt.Tooltip("rho:Q", format=".3f")])
            .properties(width=420, height=240))


def wallclock_vs_accuracy(acc: pd.DataFrame, full_acc: float, full_seconds: float, title: str) -> alt.Chart:
    """Test accuracy against seconds per run, one point per (selector, rate), in two panels: the
    run alone (scoring passes included) and with the static scores' cost charged (Raju Fig. 2b).
    The black diamond is full-data training. One data set for every layer, so the facet splits
    each layer by panel (a layer with its own data would repeat in every panel)."""
    long = pd.concat([acc.assign(cost="training run only", seconds=acc.train_seconds),
                      acc.assign(cost="scores charged", seconds=acc.wallclock_s)], ignore_index=True)
    long = long.assign(method=_label(long.score), rate=long.prune, pruned=long.prune.map(lambda r: f"{r:.0%}"), full=False)
    full = pd.DataFrame({"seconds": [full_seconds] * 2, "mean": [full_acc] * 2, "rate": [0.0] * 2, "pruned": ["0%"] * 2, "full": [True] * 2,
                         "cost": ["training run only", "scores charged"], "method": ["full data"] * 2})
    d = pd.concat([long[["seconds", "mean", "rate", "pruned", "full", "cost", "method"]], full], ignore_index=True)
    x = alt.X("seconds:Q", title="wall-clock per run (s, log scale)",
              scale=alt.Scale(type="log", nice=False, domain=_log_domain(d.seconds)),
              axis=alt.Axis(labelOverlap="greedy", labelSeparation=6, format="~s"))
    y = alt.Y("mean:Q", title="test accuracy (%)", axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False))
    pts = alt.Chart().mark_point(filled=True, size=55, opacity=1).encode(
        x=x, y=y, color=_method_color(long.method, "selector (black diamond: full data)", below=True),
        shape=alt.Shape("pruned:N", title="fraction pruned", sort=list(dict.fromkeys(long.sort_values("rate").pruned)),
                        legend=alt.Legend(title="fraction pruned", labelLimit=0, titleLimit=0, symbolOpacity=1,
                                          symbolFillColor="black")),
        tooltip=["method", alt.Tooltip("pruned:N", title="fraction pruned"), alt.Tooltip("seconds:Q", format=".0f"),
                 alt.Tooltip("mean:Q", format=".2%")]).transform_filter("!datum.full")
    star = alt.Chart().mark_point(shape="diamond", size=120, color="black", filled=True).encode(
        x=x, y=y, tooltip=["method"]).transform_filter("datum.full")
    return alt.layer(pts, star, data=d).properties(width=250, height=240).facet(
        column=alt.Column("cost:N", title=None, sort=["training run only", "scores charged"]), title=title)


def c3_other_settings(P: Profile, runs: c3.Runs) -> list[Any]:
    """Chapter C3's other settings, in order: for each shorter budget of ``P.c3_epochs`` and for
    the class-imbalanced set (where the grid ran them), the accuracy table (the imbalanced set's at
    each of its rates) and the differences chart (:func:`difference_to_random`); empty where the
    profile runs neither."""
    E, y_title = max(P.c3_epochs), "difference in test accuracy (percentage points)"
    out: list[Any] = []
    rate, data = f"{c3.AGGRESSIVE:.0%} pruned", DATASET_NAMES.get(P.dataset, P.dataset)
    for e in sorted(P.c3_epochs)[:-1]:
        out += [Markdown(f"**{e} epochs over the kept subset, {data}, {rate}:** every selector the grid ran at this budget."),
                show(report_c3_cost.prune_table(runs.main, e, c3.AGGRESSIVE)),
                difference_to_random(c3.differences(runs.main, e, report_c3.PLOTTED), f"Differences in accuracy, {e} epochs",
                                     y_title=y_title, legend="comparison")]
    if len(runs.imbalanced):
        for r in sorted(set(runs.imbalanced[runs.imbalanced.selector != "full"].prune)):
            out += [Markdown(f"**{E} epochs over the kept subset, class-imbalanced {data}, {r:.0%} pruned:** "
                             "every selector the grid ran in this setting."),
                    show(report_c3_cost.prune_table(runs.imbalanced, E, r))]
        out += [difference_to_random(c3.differences(runs.imbalanced, E, c3.IMBALANCED_COMPARISONS),
                                     f"Class-imbalanced CIFAR-10: differences in accuracy, {E} epochs",
                                     y_title=y_title, legend="comparison")]
    return out


def class_shares(shares: pd.DataFrame, title: str) -> alt.Chart:
    """Heatmaps of the share of each class in every selection (x: selection in order, y: class),
    one panel per selector (rows) and variant (columns); ``shares`` has columns selector,
    variant, selection, class, share (one seed)."""
    d = shares.assign(method=_label(shares.selector), variant=shares.variant.map(lambda v: VARIANT_HEADINGS.get(v, v)),
                      run=True)
    # Vega-Lite lays a row x column facet out cell by cell in order, so a missing pair (a variant a
    # selector did not run, or runs stored without their classes) would shift the panels after it:
    # every missing pair gets one invisible cell.
    have = set(zip(d.method, d.variant))
    missing = [(m, v) for m in dict.fromkeys(d.method) for v in dict.fromkeys(d.variant) if (m, v) not in have]
    first = d.iloc[0]
    d = pd.concat([d] + [pd.DataFrame([{**first.to_dict(), "method": m, "variant": v, "share": 0.0, "run": False}])
                         for m, v in missing], ignore_index=True)
    base = alt.Chart().encode(x=alt.X("selection:O", title="selection (in order)"),
                              y=alt.Y("class:N", title="class", sort=None))
    heat = base.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="viridis", domain=[0, 0.5], clamp=True),
                        legend=alt.Legend(title="share of the selection (fraction; 0.1 = even)", titleLimit=0,
                                          orient="bottom", gradientLength=300, format=".0%")),
        opacity=alt.condition(alt.datum.run, alt.value(1.0), alt.value(0.0)),
        tooltip=["method", "variant", "selection", "class", alt.Tooltip("share:Q", format=".1%")])
    return alt.layer(heat, data=d).properties(width=150, height=150).facet(
        row=alt.Row("method:N", title=None, sort=list(dict.fromkeys(d.method))),
        column=alt.Column("variant:N", title=None, sort=list(VARIANT_HEADINGS.values())), title=title)


def selection_histogram(counts: np.ndarray, mixture: dict, checkpoints: int, title: str) -> alt.Chart:
    """Histogram of how often each sample was selected (Raju et al. Fig. 3) with the fitted
    three-component mixture density."""
    hist = np.bincount(np.asarray(counts, int), minlength=checkpoints + 1) / len(counts)
    bars = pd.DataFrame({"count": np.arange(len(hist)), "share": hist})
    xs = np.linspace(0, checkpoints, 300)
    dens = sum(w * np.exp(-0.5 * ((xs - m) / max(sd, 1e-6)) ** 2) / (max(sd, 1e-6) * np.sqrt(2 * np.pi))
               for m, sd, w in zip(mixture["means"], mixture["stds"], mixture["weights"]))
    curve = pd.DataFrame({"count": xs, "share": dens})
    b = alt.Chart(bars).mark_bar(opacity=0.6).encode(
        x=alt.X("count:Q", title="times selected, summed over seeds (count)"),
        y=alt.Y("share:Q", title="share of training samples (fraction)"),
        tooltip=["count", alt.Tooltip("share:Q", format=".3f")])
    line = alt.Chart(curve).mark_line(color="black").encode(x="count:Q", y="share:Q")
    return alt.layer(b, line, title=title).properties(width=460, height=240)


def _log_domain(values: pd.Series, pad: float = 1.25) -> list[float]:
    """A log axis's domain: the data's range widened by ``pad`` at each end (Vega-Lite's nice log
    domain rounds out to whole decades, which left most of a chart empty)."""
    return [float(values.min()) / pad, float(values.max()) * pad]


def accuracy_vs_images(history: pd.DataFrame, title: str, y: str = "test_acc",
                       y_title: str = "test accuracy (%)") -> alt.Chart:
    """Accuracy (``y``: test_acc, or train_acc on the current selection) against images seen
    during training, mean over seeds per selector and pass (Raju Fig. 5). ``history`` has
    columns selector, epoch, images_seen and ``y``."""
    d = history.dropna(subset=[y]).groupby(["selector", "epoch"], as_index=False)[["images_seen", y]].mean()
    d = d.assign(method=_label(d.selector))
    return (alt.Chart(d, title=title).mark_line(point=alt.OverlayMarkDef(filled=True, size=40), strokeWidth=2)
            .encode(x=alt.X("images_seen:Q", title="training images seen (count, log scale)",
                            scale=alt.Scale(type="log", nice=False, domain=_log_domain(d.images_seen)),
                            axis=alt.Axis(format="~s", labelOverlap="greedy", labelSeparation=8)),
                    y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
                    color=_method_color(d.method, "selector", below=d.method.nunique() > 6),
                    tooltip=["method", "epoch", alt.Tooltip("images_seen:Q", format=",.0f"),
                             alt.Tooltip(f"{y}:Q", format=".2%")])
            .properties(width=460, height=280))
