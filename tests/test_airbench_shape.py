"""The airbench regime's grid shape, end to end on small data: every chapter's notebook, executed
with papermill as the book executes it, on a profile that takes the airbench profile's grid and
recipe fields (C2 at equal epochs with cells under equal iterations, no regime map, C3 under equal
epochs and equal iterations with the random-first and per-class diagnosis and Table 1's probes, the
setup variants, the triangle schedule, lookahead, label smoothing, test-time augmentation) on
scikit-learn's digits for 2 epochs. The airbench grid takes many hours; this test shows, before it
lands, that the sweep computes every cell of that shape and that each chapter renders from it and
writes its summary section.
"""
import json

import papermill
import pytest

from datadiet_core import book, profiles, regimes, summaries
from datadiet_core.store import Store, canonical_json, project_root, read_summary
from test_results import differences

pytestmark = pytest.mark.slow
ROOT = project_root()

# What differs from the airbench profile: the data, net and budget (digits on the smoke net for 2
# epochs: seconds a run; the airbench net needs 32x32 images), and the seeds and inits (the fewest
# that still give intervals). Everything else, grid and recipe, is the airbench profile's.
SMALL = {"dataset": "digits", "model": "fastnet", "epochs": 2, "batch_size": 100, "scoring_seeds": 2, "inits": 3,
         "c3_epochs": [2], "setup_variants": ["label_smoothing=0", "epochs=1"]}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every chapter's notebook executed on the airbench profile with :data:`SMALL` passed as
    papermill parameters (as a reader overrides fields), into a private result store."""
    out = tmp_path_factory.mktemp("nb")
    results = tmp_path_factory.mktemp("results")
    mp = pytest.MonkeyPatch()
    mp.setenv("DATADIET_RESULTS", str(results))
    params = {"profile": "airbench", "force": False, **SMALL}
    done = {}
    try:
        for source in book.notebooks(ROOT):
            nb = book.jupytext.read(source)
            path = out / f"{source.stem}.ipynb"
            papermill.execute_notebook(nb, str(path), parameters=params, kernel_name="python3",
                                       cwd=str(ROOT), progress_bar=False)
            done[source.stem] = json.loads(path.read_text())
        yield done, read_summary("airbench"), profiles.resolve_profile("airbench", **SMALL), Store(results / "airbench")
    finally:
        mp.undo()


def outputs(nb: dict) -> str:
    """What a reader sees of an executed notebook's outputs, as one string: each output's markdown
    where it has one, else its plain text (an object's repr shows only when nothing richer does)."""
    texts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            texts.append("".join(data.get("text/markdown", "") or data.get("text/html", "") or data.get("text/plain", ""))
                         + "".join(o.get("text", "")))
    return "\n".join(texts)


def test_every_chapter_renders_the_airbench_shape_and_writes_its_summary(executed):
    nbs, summary, P, _ = executed
    assert P.c2_budget == "epochs" and P.c3_variants == ("random_first", "per_class") and P.tta
    assert P.schedule == "triangle"
    assert set(nbs) == {p.stem for p in book.notebooks(ROOT)}
    assert {"setup", "c1", "c2", "c3"} <= set(summary)
    # Setup: the recipe with test-time augmentation (plain accuracy beside it) and both variants.
    assert "test_acc_plain_mean" in summary["setup"]
    assert set(summary["setup"]["variants"]) == {"label_smoothing=0", "epochs=1"}
    # C2 and C3: headlines of their parts, each part with its verdict word.
    for claim in ("c2", "c3"):
        h = summary[claim]["headline"]
        assert h["verdict"] in ("holds", "fails", "inconclusive") and h["parts"]
        assert all(p["verdict"] in ("holds", "fails", "inconclusive") for p in h["parts"].values())
    # C2 also ran random and EL2N at 50% under equal iterations, beside the equal-epochs headline.
    conv = summary["c2"]["budget_conventions"]
    assert conv["budgets"] == ["epochs", "iterations"] and set(conv["diff_to_random"]["iterations"]) == {"el2n_early"}
    # C3: both diagnosis variants and the equal-iterations cells were computed and read.
    assert {"uncertainty_ema:random_first", "ucb:per_class"} <= set(summary["c3"]["collapse"]["acc"])
    assert set(summary["c3"]["collapse"]["class_turnover"]) == set(summary["c3"]["collapse"]["acc"])
    for stem, nb in nbs.items():
        text = outputs(nb)
        assert "Traceback" not in text, stem
        assert "<IPython.core.display.Markdown object>" not in text, stem


def test_the_summary_the_notebooks_wrote_is_what_summaries_build_computes(executed):
    _, summary, P, store = executed
    rebuilt = json.loads(canonical_json(summaries.build(P, store.reader())))
    assert set(rebuilt) == set(summary)
    assert differences(summary, rebuilt) == []


def test_the_introduction_table_takes_the_airbench_shaped_summary(executed):
    _, summary, _, _ = executed
    table = regimes.verdict_table({"airbench": summary})
    assert table.count("\n") == 2 + 3 and "not computed yet" not in table
    assert all(regimes.claim_table(c, {"airbench": summary}) for c in ("c1", "c2", "c3"))
