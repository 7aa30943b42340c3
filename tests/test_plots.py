"""Every chart in datadiet_core.plots: a valid Vega-Lite spec, titled x/y axes, the rows it was
given, and its title. Small inputs, no files, no renderer (to_dict and vl-convert work offline)."""
import base64
import io
import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from datadiet_core import plots, report, selection

POSITION = ("x", "y")


# --------------------------------------------------------------------------- spec walkers

def collect_encodings(node, path="$"):
    """(json path, encoding dict) of every encoding in a spec: top level, layer, concat, facet spec."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "encoding" and isinstance(value, dict):
                found.append((path, value))
            elif key not in ("datasets", "config"):
                found += collect_encodings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += collect_encodings(value, f"{path}[{i}]")
    return found


def _nonempty(title):
    if isinstance(title, str):
        return bool(title.strip())
    return isinstance(title, list) and bool(title) and all(isinstance(t, str) and t.strip() for t in title)


def own_axis_title(channel: dict):
    axis = channel.get("axis") or {}
    return channel["title"] if "title" in channel else axis.get("title")


def untitled_axes(spec):
    """(path, channel) of every field-bound x/y encoding without a non-empty title. A layer whose
    channel has no title of its own is accepted when a sibling layer titles the same channel:
    layers share their axes and Vega-Lite's merge keeps the explicit title (checked for real by
    test_compiled_vega_axes_all_have_titles)."""
    encs = collect_encodings(spec)
    titled = {(path, ch) for path, enc in encs for ch in POSITION
              if isinstance(enc.get(ch), dict) and _nonempty(own_axis_title(enc[ch]))}
    missing = []
    for path, enc in encs:
        for ch in POSITION:
            cdef = enc.get(ch)
            if not isinstance(cdef, dict) or not ("field" in cdef or "aggregate" in cdef):
                continue  # absent, or a constant value: no axis
            if (path, ch) in titled:
                continue
            m = re.fullmatch(r"(.*\.layer)\[\d+\]", path)
            if m and any(re.fullmatch(re.escape(m.group(1)) + r"\[\d+\]", p) and c == ch for p, c in titled):
                continue
            missing.append((path, ch))
    return missing


def datasets(spec):
    """Every table of rows in a spec: top-level named datasets and inline data values."""
    tables = list(spec.get("datasets", {}).values())

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                tables.append(data["values"])
            for key, value in node.items():
                if key != "datasets":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return tables


def chart_titles(node):
    """Title texts of the (sub-)charts of a spec (not axis, legend or header titles)."""
    out = []
    if isinstance(node, dict):
        title = node.get("title")
        if isinstance(title, dict):
            title = title.get("text")
        if isinstance(title, str):
            out.append(title)
        for key, value in node.items():
            if key not in ("encoding", "datasets", "config", "facet", "title"):
                out += chart_titles(value)
    elif isinstance(node, list):
        for value in node:
            out += chart_titles(value)
    return out


def assert_rows_in_spec(spec, frame: pd.DataFrame):
    """Some table in the spec has exactly frame's rows, in order, with frame's values."""
    cols = list(frame.columns)
    candidates = [t for t in datasets(spec) if len(t) == len(frame) and all(set(cols) <= set(r) for r in t)]
    assert candidates, f"no table of {len(frame)} rows with columns {cols}; have " \
                       f"{[(len(t), sorted(t[0]) if t else []) for t in datasets(spec)]}"

    def same(table):
        for c in cols:
            got, want = [r[c] for r in table], frame[c].tolist()
            if pd.api.types.is_numeric_dtype(frame[c]):
                if not np.allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-12, atol=0):
                    return False
            elif got != want:
                return False
        return True

    assert any(same(t) for t in candidates), f"no table equals the input rows for {cols}"


# --------------------------------------------------------------------------- inputs per chart

def _class_counts(title):
    df = pd.DataFrame({"class": ["cat", "dog", "ship"] * 2, "split": ["train"] * 3 + ["test"] * 3,
                       "count": [5000, 5000, 4990, 1000, 1000, 998]})
    return plots.class_counts(df, title), [df], "mark"


def _curves_by_seed(title, percent=True):
    df = pd.DataFrame({"epoch": [1, 2, 3] * 2, "seed": [0] * 3 + [1] * 3,
                       "test_acc": [0.41, 0.62, 0.70, 0.43, 0.60, 0.72]})
    return plots.curves_by_seed(df, "test_acc", "test accuracy (%)", title, percent=percent), [df], "layer"


def _rho_vs_k(title, reference=0.42):
    df = pd.DataFrame({"model": ["resnet18"] * 4, "split": ["train", "train", "test", "test"],
                       "K": [1, 2, 1, 2], "rho": [0.30, 0.35, 0.28, 0.33], "lo": [0.25, 0.31, 0.22, 0.29],
                       "hi": [0.35, 0.39, 0.34, 0.37], "n": [1000] * 4})
    chart = plots.rho_vs_k(df, "model", title, reference=reference, reference_label="Paul et al.")
    # the net by the name a reader uses, in the legend and the data alike
    frames = [df.assign(model="ResNet-18", series=["ResNet-18 / train"] * 2 + ["ResNet-18 / test"] * 2)]
    if reference is not None:
        frames.append(pd.DataFrame({"rho": [reference], "label": ["Paul et al."]}))
    return chart, frames, "layer"


def _log_ratio_histogram(title):
    x = np.random.default_rng(0).normal(0.5, 0.2, 1000)
    counts, edges = np.histogram(x, bins=20, density=True)
    hist = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "density": counts})
    grid = pd.DataFrame({"x": np.linspace(edges[0], edges[-1], 200)})
    return plots.log_ratio_histogram(x, 0.5, 0.2, title, bins=20), [hist, grid], "layer"


def _accuracy_vs_pruned(title):
    df = pd.DataFrame({"score": ["random", "random", "el2n_early", "el2n_early"], "prune": [0.3, 0.5] * 2,
                       "mean": [0.90, 0.88, 0.91, 0.87], "p16": [0.89, 0.87, 0.90, 0.86],
                       "p84": [0.91, 0.89, 0.92, 0.88], "seeds": [3] * 4})
    frames = [df.assign(method=["random", "random", "EL2N early", "EL2N early"]),
              pd.DataFrame({"mean": [0.93], "label": ["full data"]})]
    return plots.accuracy_vs_pruned(df, 0.93, title), frames, "layer"


def _difference_to_random(title, x="prune"):
    df = pd.DataFrame({"score": ["el2n_early", "forgetting"] * 2, x: [0.3, 0.3, 0.5, 0.5] if x == "prune"
                       else [10, 10, 20, 20], "diff": [0.01, -0.002, 0.004, -0.01],
                       "lo": [0.0, -0.01, -0.003, -0.02], "hi": [0.02, 0.006, 0.011, 0.0]})
    frames = [df.assign(method=["EL2N early", "forgetting"] * 2), pd.DataFrame({"y": [0.0]})]
    return plots.difference_to_random(df, title, x=x), frames, "layer"


def _regime_map(title):
    df = pd.DataFrame({"score": ["el2n_early", "random"] * 2, "rule": ["keep_highest"] * 4, "prune": [0.5] * 4,
                       "epochs": [4, 4, 8, 8], "diff": [-0.05, 0.0, 0.01, 0.0], "lo": [-0.07, -0.01, -0.01, -0.01],
                       "hi": [-0.03, 0.01, 0.03, 0.01]})
    frames = [df.assign(method=["EL2N early", "random"] * 2), pd.DataFrame({"y": [0.0]})]
    return plots.regime_map(df, title), frames, "layer"


def _kept_per_class(title):
    df = pd.DataFrame({"selection": ["EL2N 50%"] * 3 + ["random 50%"] * 3, "class": ["cat", "dog", "ship"] * 2,
                       "count": [2100, 2600, 2300, 2500, 2500, 2500]})
    return plots.kept_per_class(df, title), [df], "layer"


def _spearman_heatmap(title):
    scores = ["input_norm", "grand_init", "forgetting"]
    df = pd.DataFrame([(a, b, 1.0 if a == b else 0.1 * (i + j)) for i, a in enumerate(scores)
                       for j, b in enumerate(scores)], columns=["a", "b", "rho"])
    frames = [df.assign(a=df.a.map(report.LABELS), b=df.b.map(report.LABELS))]
    return plots.spearman_heatmap(df, title), frames, "layer"


def _rank_reliability(title):
    df = pd.DataFrame({"score": ["el2n_early"] * 3 + ["ucb"] * 3, "comparison": ["next run"] * 6,
                       "K": [1, 2, 4] * 2, "rho": [0.6, 0.75, 0.85, 0.5, 0.65, 0.8]})
    return plots.rank_reliability(df, title), [df.assign(method=["EL2N early"] * 3 + ["UCB"] * 3)], "mark"


def _wallclock_vs_accuracy(title):
    df = pd.DataFrame({"score": ["random_dynamic", "infobatch"], "prune": [0.3, 0.5], "mean": [0.9, 0.89],
                       "train_seconds": [60.0, 45.0], "wallclock_s": [60.0, 80.0]})
    one = pd.DataFrame({"seconds": [60.0, 45.0, 60.0, 80.0, 100.0, 100.0], "mean": [0.9, 0.89] * 2 + [0.93] * 2,
                        "rate": [0.3, 0.5] * 2 + [0.0] * 2, "full": [False] * 4 + [True] * 2,
                        "cost": ["training run only"] * 2 + ["scores charged"] * 2
                        + ["training run only", "scores charged"],
                        "method": ["random (dynamic)", "InfoBatch"] * 2 + ["full data"] * 2})
    return plots.wallclock_vs_accuracy(df, 0.93, 100.0, title), [one], "facet"


def _class_shares(title):
    df = pd.DataFrame([{"selector": s, "variant": v, "seed": 1000, "selection": i, "class": c, "share": 0.7 if c == "cat" else 0.3}
                       for s in ("uncertainty_ema", "ucb") for v in ("as specified", "per_class")
                       for i in (1, 2) for c in ("cat", "dog")])
    variant = df.variant.map({"as specified": "as specified", "per_class": "per class"})  # as a reader reads it
    return plots.class_shares(df, title), [df.assign(method=df.selector.map(report.LABELS), variant=variant)], "facet"


def _selection_histogram(title):
    counts = np.array([0, 1, 1, 2, 3, 3, 3, 4])
    mixture = {"means": [0.5, 2.0, 3.2], "stds": [0.4, 0.8, 0.5], "weights": [0.3, 0.3, 0.4]}
    bars = pd.DataFrame({"count": np.arange(5), "share": np.bincount(counts, minlength=5) / 8})
    curve = pd.DataFrame({"count": np.linspace(0, 4, 300)})
    return plots.selection_histogram(counts, mixture, 4, title), [bars, curve], "layer"


def _accuracy_vs_images(title):
    df = pd.DataFrame({"selector": ["random_dynamic"] * 6 + ["ucb"] * 6, "seed": [0, 0, 1, 1, 2, 2] * 2,
                       "epoch": [1, 2] * 6, "images_seen": [1000, 2000] * 3 + [500, 1000] * 3,
                       "test_acc": [0.40, 0.60, 0.41, 0.61, 0.48, 0.68, 0.30, 0.50, 0.33, 0.53, 0.36, 0.59]})
    means = pd.DataFrame({"selector": ["random_dynamic"] * 2 + ["ucb"] * 2, "epoch": [1, 2] * 2,
                          "images_seen": [1000, 2000, 500, 1000], "test_acc": [0.43, 0.63, 0.33, 0.54],
                          "method": ["random (dynamic)"] * 2 + ["UCB"] * 2})
    return plots.accuracy_vs_images(df, title), [means], "mark"


def _images():
    return np.random.default_rng(0).integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)


def _image_grid(title):
    chart = plots.image_grid(_images(), ["hardest", "easiest"], ["cat", "dog", "ship"], title, size=20)
    frame = pd.DataFrame({"row": ["hardest"] * 3 + ["easiest"] * 3, "col": ["cat", "dog", "ship"] * 2})
    return chart, [frame], "mark"


CASES = {
    "class_counts": _class_counts,
    "curves_by_seed": _curves_by_seed,
    "curves_by_seed[fraction]": lambda t: _curves_by_seed(t, percent=False),
    "rho_vs_k": _rho_vs_k,
    "rho_vs_k[no reference]": lambda t: _rho_vs_k(t, reference=None),
    "log_ratio_histogram": _log_ratio_histogram,
    "accuracy_vs_pruned": _accuracy_vs_pruned,
    "difference_to_random[prune]": _difference_to_random,
    "difference_to_random[epochs]": lambda t: _difference_to_random(t, x="epochs"),
    "kept_per_class": _kept_per_class,
    "spearman_heatmap": _spearman_heatmap,
    "rank_reliability": _rank_reliability,
    "wallclock_vs_accuracy": _wallclock_vs_accuracy,
    "class_shares": _class_shares,
    "selection_histogram": _selection_histogram,
    "accuracy_vs_images": _accuracy_vs_images,
    "image_grid": _image_grid,
    "regime_map": _regime_map,
}
NO_AXIS_TITLE: dict[str, str] = {}  # chart -> why it has no axis title (none today)


def _build(name):
    title = f"chart title of {name} <&>"
    chart, frames, composition = CASES[name](title)
    return chart.to_dict(), title, frames, composition  # to_dict validates against the schema


def _cases_marking_untitled():
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=NO_AXIS_TITLE[n])) if n in NO_AXIS_TITLE
            else n for n in CASES]


def test_every_public_chart_function_has_a_case():
    public = {n for n, f in vars(plots).items() if callable(f) and not n.startswith("_")
              and getattr(f, "__module__", None) == plots.__name__ and not isinstance(f, type)}
    not_charts = {"write_vega_bundle", "script_json", "enable_offline", "png_data_url", "chart_or_note",
                  "c3_other_settings"}  # the last returns a list of charts and tables: its own test below
    assert public - not_charts == {n.split("[")[0] for n in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_valid_spec_with_title(name):
    spec, title, _, composition = _build(name)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert composition in spec
    if composition == "facet":
        assert "spec" in spec
    assert title in chart_titles(spec)


@pytest.mark.parametrize("name", _cases_marking_untitled())
def test_every_x_and_y_encoding_has_an_axis_title(name):
    spec = _build(name)[0]
    encs = collect_encodings(spec)
    assert any(ch in enc for _, enc in encs for ch in POSITION)
    assert untitled_axes(spec) == []


@pytest.mark.parametrize("name", list(CASES))
def test_input_rows_are_in_the_spec(name):
    spec, _, frames, _ = _build(name)
    for frame in frames:
        assert_rows_in_spec(spec, frame)


def _vega(spec):
    import vl_convert as vlc

    version = "v" + alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    known = vlc.get_vegalite_versions()
    return vlc.vegalite_to_vega(spec, vl_version=version if version.lstrip("v") in known else None)


def _vega_axes(node):
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "axes" and isinstance(value, list):
                out += value
            else:
                out += _vega_axes(value)
    elif isinstance(node, list):
        for value in node:
            out += _vega_axes(value)
    return out


@pytest.mark.parametrize("name", _cases_marking_untitled())
def test_compiled_vega_axes_all_have_titles(name):
    """Ground truth for the layer rule above: what Vega draws after Vega-Lite merged the layers.
    Every drawn axis title is one written in the spec, not a default made from a field name."""
    spec = _build(name)[0]
    explicit = {str(own_axis_title(enc[ch])) for _, enc in collect_encodings(spec) for ch in POSITION
                if isinstance(enc.get(ch), dict) and _nonempty(own_axis_title(enc[ch]))}
    axes = [a for a in _vega_axes(_vega(spec)) if not (a.get("grid") and a.get("labels") is False)]
    assert {a["scale"] for a in axes} >= {"x", "y"}
    assert [(a["scale"], a.get("title")) for a in axes if a.get("title") not in explicit] == []


# --------------------------------------------------------------------------- chart-specific facts

def test_untitled_axes_helper_flags_a_missing_title_and_accepts_a_titled_sibling_layer():
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    bare = alt.Chart(df).mark_point().encode(x="a:Q", y=alt.Y("b:Q", title="b (count)")).to_dict()
    assert untitled_axes(bare) == [("$", "x")]
    titled = alt.Chart(df).mark_point().encode(x=alt.X("a:Q", title="a (s)"), y=alt.Y("b:Q", title="b (count)"))
    assert untitled_axes(alt.layer(titled, alt.Chart(df).mark_line().encode(x="a:Q", y="b:Q")).to_dict()) == []
    assert untitled_axes(alt.layer(alt.Chart(df).mark_line().encode(x="a:Q", y="b:Q"),
                                   alt.Chart(df).mark_line().encode(x="b:Q", y="a:Q")).to_dict()) == \
        [("$.layer[0]", "x"), ("$.layer[0]", "y"), ("$.layer[1]", "x"), ("$.layer[1]", "y")]


@pytest.mark.parametrize("percent, fmt", [(True, ".0%"), (False, ".2f")])
def test_curves_by_seed_thin_line_per_seed_and_bold_mean(percent, fmt):
    spec = _curves_by_seed("t", percent=percent)[0].to_dict()
    seeds, mean = spec["layer"]
    assert seeds["encoding"]["detail"]["field"] == "seed" and seeds["encoding"]["y"]["axis"]["format"] == fmt
    assert mean["encoding"]["y"] == {"aggregate": "mean", "field": "test_acc", "type": "quantitative"}
    assert mean["mark"]["strokeWidth"] > seeds["mark"]["strokeWidth"]


def test_rho_vs_k_reference_adds_a_rule_named_in_the_subtitle():
    assert len(_rho_vs_k("t")[0].to_dict()["layer"]) == 3
    assert len(_rho_vs_k("t", reference=None)[0].to_dict()["layer"]) == 2
    assert _rho_vs_k("t", reference=None)[0].to_dict()["title"] == "t"


def test_log_ratio_histogram_is_a_density_with_the_normal_fit():
    spec = _build("log_ratio_histogram")[0]
    hist = next(t for t in datasets(spec) if len(t) == 20)
    assert sum(r["density"] * (r["right"] - r["left"]) for r in hist) == pytest.approx(1.0)
    pdf = next(t for t in datasets(spec) if len(t) == 200)
    assert max(r["density"] for r in pdf) == pytest.approx(1 / (0.2 * np.sqrt(2 * np.pi)), rel=1e-3)


def test_selection_histogram_shares_sum_to_one_and_curve_is_a_density():
    spec = _build("selection_histogram")[0]
    bars = next(t for t in datasets(spec) if len(t) == 5)
    assert sum(r["share"] for r in bars) == pytest.approx(1.0)
    curve = next(t for t in datasets(spec) if len(t) == 300)
    x, y = np.array([r["count"] for r in curve]), np.array([r["share"] for r in curve])
    assert 0.8 < np.trapezoid(y, x) <= 1.0  # weights sum to 1; a little mass falls outside [0, 4]


def test_accuracy_vs_pruned_orders_methods_as_given_and_draws_full_data_rule():
    spec = _build("accuracy_vs_pruned")[0]
    assert spec["layer"][0]["encoding"]["color"]["sort"] == ["random", "EL2N early"]
    assert spec["layer"][2]["mark"]["type"] == "rule"


def test_static_lines_are_drawn_over_the_dynamic_ones_with_hollow_markers():
    # random static and random dynamic can end at the same mean: the static markers must stay visible
    df = pd.DataFrame({"score": ["random_dynamic", "random_dynamic", "random_static", "random_static"],
                       "prune": [0.7, 0.8] * 2, "mean": [0.70, 0.65, 0.69, 0.65], "p16": [0.69, 0.64, 0.68, 0.64],
                       "p84": [0.71, 0.66, 0.70, 0.66], "seeds": [3] * 4})
    spec = plots.accuracy_vs_pruned(df, 0.83, "t", dashed=["random_static"]).to_dict()
    kinds = [ly["mark"]["type"] for ly in spec["layer"]]
    assert kinds[kinds.index("line"):] == ["line", "line", "point", "rule"]  # dynamic, static, static's markers
    assert spec["layer"][kinds.index("line")]["mark"]["point"]["filled"] is True
    assert spec["layer"][kinds.index("point")]["mark"]["filled"] is False


def test_kept_per_class_height_grows_with_selections():
    assert _build("kept_per_class")[0]["height"] == 22 * 2


def test_selections_are_named_by_score_then_rule():
    assert report.selection_label("keep_highest: el2n_early") == "EL2N early, keep highest"
    assert report.selection_label("per_class: grand_init") == "GraNd@init, per class"
    assert report.selection_label("random") == "random"


def test_spearman_heatmap_color_domain_is_minus_one_to_one():
    spec = _build("spearman_heatmap")[0]
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == [-1, 1]
    assert spec["layer"][0]["encoding"]["x"]["sort"] == ["input norm ‖x‖₂", "GraNd@init", "forgetting"]


def test_class_shares_gives_every_missing_panel_an_invisible_cell():
    """Vega-Lite fills a row x column facet in order: a selector without one variant would shift
    the panels after it under the wrong headings. Each missing pair gets one invisible cell."""
    df = pd.DataFrame([{"selector": s, "variant": v, "seed": 1000, "selection": 1, "class": "cat", "share": 0.5}
                       for s, v in (("uncertainty_ema", "as specified"), ("uncertainty_ema", "per_class"),
                                    ("epsilon_greedy", "per_class"), ("ucb", "as specified"))])
    spec = plots.class_shares(df, "t").to_dict()
    rows = next(iter(spec["datasets"].values()))
    pairs = {(r["method"], r["variant"]): r["run"] for r in rows}
    assert len(rows) == 6 and pairs[("ε-greedy", "as specified")] is False and pairs[("UCB", "per class")] is False
    assert all(pairs[(report.LABELS[s], v.replace("_", " "))] for s, v in zip(df.selector, df.variant))
    assert spec["spec"]["layer"][0]["encoding"]["opacity"]["condition"]["value"] == 1.0


def test_wallclock_vs_accuracy_has_one_panel_per_cost():
    spec = _build("wallclock_vs_accuracy")[0]
    assert spec["facet"]["column"]["field"] == "cost"
    assert spec["spec"]["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"
    # The log axes span the data, not the whole decades around it (10 s to 10,000 s for 60-1,500 s).
    assert spec["spec"]["layer"][0]["encoding"]["x"]["scale"]["domain"] == [36.0, 125.0]  # runs of 45-100 s
    # No layer brings data of its own: a layer that did would be drawn whole in every panel.
    assert all("data" not in layer for layer in spec["spec"]["layer"])
    assert spec["spec"]["layer"][0]["encoding"]["color"]["legend"]["title"].startswith("selector")


def test_images_axis_spans_the_data_not_whole_decades():
    x = _build("accuracy_vs_images")[0]["encoding"]["x"]["scale"]
    assert x == {"type": "log", "nice": False, "domain": [400.0, 2500.0]}  # 500 to 2,000 images, 1.25x either side


@pytest.mark.parametrize("name", ["accuracy_vs_pruned", "difference_to_random[prune]", "rank_reliability",
                                  "accuracy_vs_images", "wallclock_vs_accuracy", "rho_vs_k"])
def test_legends_show_labels_whole_and_opaque(name):
    encs = [enc for _, enc in collect_encodings(_build(name)[0])]
    legends = [enc[ch]["legend"] for enc in encs for ch in ("color", "shape")
               if isinstance(enc.get(ch), dict) and enc[ch].get("legend")]
    assert legends and all(lg["labelLimit"] == 0 and lg["symbolOpacity"] == 1 for lg in legends)
    # A dash legend draws no symbols when colour is encoded too (seen in Chromium): dashes carry no
    # legend; the same field's markers carry it, in black.
    for enc in encs:
        if isinstance(enc.get("strokeDash"), dict):
            assert enc["strokeDash"]["legend"] is None and enc["shape"]["field"] == enc["strokeDash"]["field"]
            assert enc["shape"]["legend"]["symbolFillColor"] == "black"


def test_rho_vs_k_names_its_reference_in_the_subtitle_not_on_the_curves():
    spec = _build("rho_vs_k")[0]
    assert spec["title"]["subtitle"].startswith("dotted line: ")
    assert not any(layer.get("mark", {}).get("type") == "text" for layer in spec["layer"])


def test_png_data_url_round_trips_rgb_and_single_channel_images():
    img = _images()[0]
    for im, mode_shape in [(img, (8, 8, 3)), (img[..., :1], (8, 8))]:
        url = plots.png_data_url(im)
        assert url.startswith("data:image/png;base64,")
        got = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
        assert got.shape == mode_shape
        src = im[..., 0] if im.shape[-1] == 1 else im
        np.testing.assert_array_equal(got, src.repeat(2, 0).repeat(2, 1))


def test_image_grid_has_one_png_data_url_per_image_in_row_major_order():
    spec = _build("image_grid")[0]
    (table,) = [t for t in datasets(spec) if t and "url" in t[0]]
    assert len(table) == 6
    assert spec["mark"]["type"] == "image" and spec["encoding"]["url"]["field"] == "url"
    assert [r["url"] for r in table] == [plots.png_data_url(im) for im in _images()]
    assert spec["width"] == 3 * (20 + 6) and spec["height"] == 2 * (20 + 6)


def test_image_grid_rejects_a_wrong_number_of_images():
    with pytest.raises(ValueError, match="needs 6 images, got 5"):
        plots.image_grid(_images()[:5], ["a", "b"], ["c", "d", "e"], "t")


def _color_of(spec, method):
    """The colour a compiled chart gives ``method`` (its colour scale's range at the label)."""
    for _, enc in collect_encodings(spec):
        scale = enc.get("color", {}).get("scale", {}) if isinstance(enc.get("color"), dict) else {}
        if "range" in scale and method in scale["domain"]:
            return scale["range"][scale["domain"].index(method)]
    return None


def test_a_selector_has_one_colour_in_every_chart_and_no_two_share_one():
    images, wallclock = _build("accuracy_vs_images")[0], _build("wallclock_vs_accuracy")[0]
    assert _color_of(images, "random (dynamic)") == _color_of(wallclock, "random (dynamic)") is not None
    assert _color_of(images, "UCB") != _color_of(images, "random (dynamic)")
    for family in (selection.STATIC_SCORES + selection.PREDROP_SCORES, selection.SELECTORS + selection.TABLE1_SELECTORS + ("full",)):
        colours = [plots.METHOD_COLORS[m] for m in family]
        assert len(set(colours)) == len(colours), family
    # Comparisons ("a − b") have no fixed colour: Vega's scheme, distinct within the chart.
    diffs = pd.DataFrame({"a": ["ucb", "random_dynamic"], "b": ["random_dynamic", "random_static"], "prune": [0.7, 0.7],
                          "diff": [0.1, 0.0], "lo": [0.0, -0.1], "hi": [0.2, 0.1]})
    spec = plots.difference_to_random(diffs, "t", y_title="difference (percentage points)").to_dict()
    assert _color_of(spec, "UCB − random (dynamic)") is None


def test_c3_other_settings_are_empty_where_the_profile_runs_none():
    """A profile with one budget and no imbalanced runs shows neither setting: no table, no chart."""
    from datadiet_core import c3, profiles
    P = profiles.resolve_profile("airbench")
    empty = pd.DataFrame()
    assert len(P.c3_epochs) == 1 and plots.c3_other_settings(P, c3.Runs(empty, empty, empty, empty, empty)) == []


def test_nothing_to_show_renders_nothing_not_a_repr():
    """An empty table or a missing chart with no note shows nothing; an empty Markdown object
    would print '<IPython.core.display.Markdown object>' in the book."""
    assert plots.chart_or_note(pd.DataFrame(), "") is None and plots.chart_or_note(None, "") is None
    assert plots.chart_or_note(None, "not run").data == "not run"
    from datadiet_core import report
    assert report.show(pd.DataFrame()) is None
