"""Every sentence and table cell the book renders from a summary says what its numbers say
(modules report, report_c3, regimes): a reading sits beside an interval that supports it, a
comparison with fewer than 3 seeds states no interval, a verdict paragraph stays short."""
import copy
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datadiet_core import c3, profiles, regimes, report, report_c1, report_c2, report_c3, report_c3_cost, stats

COMMITTED = Path(__file__).resolve().parent.parent / "results" / "cpu" / "summary.json"
NUM = r"[+-]?\d+\.\d"  # unsigned: a point that rounds to zero
CELL = rf"({NUM}) \[({NUM}), ({NUM})\]"
READINGS = ("above", "below", "no detectable difference")


@pytest.fixture(scope="module")
def cpu():
    return json.loads(COMMITTED.read_text())


def consistent(diff: float, lo: float, hi: float, reading: str) -> bool:
    """A reading agrees with its interval, and the difference lies inside it."""
    inside = lo <= diff <= hi
    return inside and {"above": lo > 0, "below": hi < 0, "no detectable difference": lo <= 0 <= hi}[reading]


def pairs(text: str) -> list[tuple[float, float, float, str]]:
    """Every (diff, lo, hi, reading) the text states side by side, in the two forms the book
    writes: 'cell reading' and 'reading at 30% (cell)'."""
    out = [(float(a), float(b), float(c), r) for a, b, c, r in
           re.findall(rf"{CELL} ({'|'.join(READINGS)})", text)]
    out += [(float(a), float(b), float(c), r) for r, a, b, c in
            re.findall(rf"({'|'.join(READINGS)}) at \d+% \({CELL}\)", text)]
    return out


def rendered(summary: dict) -> str:
    """Every text and table the chapters render from a summary, as one string."""
    parts = [report.parts_table("c2", summary["c2"]["headline"]), report.parts_table("c3", summary["c3"]["headline"]),
             report_c2.c2_verdict_text(summary["c2"]), report_c3.verdict_text(summary["c3"]),
             report_c2.c2_per_class_text(summary["c2"]), report_c2.c2_budget_text(summary["c2"]),
             report_c2.restore_bug_text(summary["c2"]), regimes.restore_bug_table({"cpu": summary}),
             report_c3_cost.speed_text(summary["c3"]), report_c3.iterations_text(summary["c3"]),
             regimes.verdict_table({"cpu": summary}), regimes.claim_table("c2", {"cpu": summary}),
             regimes.claim_table("c3", {"cpu": summary})]
    tables = [report_c2.c2_checks_table(summary["c2"]), report_c2.c2_per_class_table(summary["c2"]),
              report_c2.c2_checkpoint_table(summary["c2"]), report_c3.comparisons_table(summary["c3"])]
    cells = [str(v) for t in tables for v in t.to_numpy().ravel()]
    return "\n".join(parts + cells)


def test_every_reading_sits_on_an_interval_that_supports_it(cpu):
    text = rendered(cpu)
    found = pairs(text)
    assert len(found) >= 5  # the chapters do state readings beside intervals (the cpu side cells have 2 seeds)
    bad = [p for p in found if not consistent(*p)]
    assert not bad, bad[:5]
    # a part's reading at each fraction is the reading of that fraction's stored interval
    for claim, table in (("c2", cpu["c2"]["diff_to_random"]), ("c3", cpu["c3"]["comparisons"])):
        for name, p in cpu[claim]["headline"]["parts"].items():
            by_f = table.get(name, {}) if claim == "c2" else table.get(name.replace("_at_0.8", ""), {})
            for f, reading in p["directions"].items():
                if name.endswith("_at_0.8") or reading == stats.FEW_SEEDS:
                    continue
                diff, lo, hi = by_f[f][:3]
                assert consistent(diff, lo, hi, reading), (name, f)


def test_a_reading_that_contradicts_its_interval_is_caught():
    assert pairs("+1.0 [+0.5, +1.5] no detectable difference") == [(1.0, 0.5, 1.5, "no detectable difference")]
    assert not consistent(1.0, 0.5, 1.5, "no detectable difference") and consistent(1.0, 0.5, 1.5, "above")
    assert not consistent(-0.2, -1.0, 0.4, "below") and consistent(-0.2, -1.0, 0.4, "no detectable difference")
    assert pairs("below at 30% (-2.0 [-3.0, -1.0])") == [(-2.0, -3.0, -1.0, "below")]


def test_fewer_than_three_seeds_state_no_interval_and_no_reading(cpu):
    text = rendered(cpu)
    # every two-seed comparison of the cpu summary (its side cells) is shown as a difference alone
    two = [f for by_f in cpu["c2"]["per_class_to_random"].values() for f in by_f.values() if f[3] == stats.FEW_SEEDS]
    assert two and stats.FEW_SEEDS in text
    for diff, *_ in two:
        assert f"{diff * 100:+.1f} ({stats.FEW_SEEDS})" in text
    assert not re.search(rf"{stats.FEW_SEEDS}\)? ({'|'.join(READINGS)})", text)  # never read as a direction
    wide = [float(b) - float(a) for _, a, b in re.findall(CELL, text)]
    assert max(wide) < 50  # no interval of two seeds' width (Welch with 1 degree of freedom) is printed


def test_verdict_paragraphs_are_short_and_name_every_part(cpu):
    for claim, text in (("c2", report_c2.c2_verdict_text(cpu["c2"])), ("c3", report_c3.verdict_text(cpu["c3"]))):
        h = cpu[claim]["headline"]
        assert len(text.split()) <= 90 and text.startswith(f"Claim {claim.upper()} {report.verdict_phrase(h['verdict'])} at "
                                                           f"{report.regime_brief(h['regime'])}.")
        full = cpu["setup"]["test_acc_mean"] * 100
        assert f"{h['regime'].split(' (')[0]}" in text and f", full data {full:.1f}%. Rule" in text
        assert all(f"{p['statement']}: {p['verdict']}" in text for p in h["parts"].values())


def test_a_parts_table_states_each_parts_verdict_and_effect(cpu):
    h = cpu["c2"]["headline"]
    table = report.parts_table("c2", h)
    rows = table.strip().splitlines()[2:]
    assert len(rows) == len(h["parts"]) and rows[0].startswith(f"| {h['parts']['grand_init']['statement']} |")
    for row, (_, p) in zip(rows, report.ordered_parts(h)):
        assert f"**{p['verdict']}**" in row and report.cell(p["at_50"]["effect"], *p["at_50"]["ci"]) in row
    c3 = report.parts_table("c3", cpu["c3"]["headline"])
    assert "about -3.5 (Raju et al." in c3 and c3.count("**") == 2 * len(cpu["c3"]["headline"]["parts"])
    assert np.isfinite(cpu["c3"]["headline"]["parts"]["random_dynamic_vs_full_at_0.8"]["at"]["ci"][0])


def test_a_verdict_names_its_regime_with_the_budget_convention_and_full_data_accuracy():
    c2 = ("fastnet, 8 epochs (1,560 steps of 256) for full data at 83.3% ± 0.2 (n = 4), equal iterations (every "
          "pruned run takes the full-data run's steps), whole-set keep-highest, 30%, 50%, 70% pruned")
    assert report.regime_brief(c2) == "fastnet, 8 epochs, equal iterations, full data 83.3%"
    c3 = ("airbench, 14 epochs over the kept subset (full data: 686 steps of 1024, 93.4% ± 0.1, n = 4), "
          "re-selection after every pass, 70%, 80%, 90% pruned")
    assert report.regime_brief(c3) == "airbench, 14 epochs over the kept subset, full data 93.4%"


def test_a_c2_part_read_at_one_fraction_says_so(cpu):
    """The rule reads every fraction a part ran; where the grid ran one (airbench's GraNd early),
    its effect says it is the only one, so "holds" is not read as holding across fractions."""
    p = copy.deepcopy(cpu["c2"]["headline"]["parts"]["grand_early"])
    assert len(p["directions"]) == 3 and report.part_effect("grand_early", p).endswith(" at 50%")
    p["directions"] = {"0.5": p["directions"]["0.5"]}
    assert report.part_effect("grand_early", p).endswith(" at 50% (the only fraction run)")


def test_show_prints_one_header_row_and_three_decimals():
    html = report.show(pd.DataFrame({"a": ["x", "y"], "rho": [0.326, 93.33], "n": [3, 4]}).set_index("a")).to_html()
    assert ">0.326<" in html and ">93.33<" in html and ">3<" in html and "0.326000" not in html
    assert html.count("<tr>") == 3  # one header row and two rows


def test_no_sentence_lists_nothing(cpu):
    """A list the text builds from the summary is never empty in print ('per class: .')."""
    texts = [report_c2.c2_per_class_text(cpu["c2"]), report_c2.c2_budget_text(cpu["c2"]), report_c2.c2_verdict_text(cpu["c2"]),
             report_c3.collapse_text(cpu["c3"]["collapse"]), report_c1.c1_fashion_text(cpu["c1"])]
    for text in texts:
        assert not re.search(r":\s*[.;]|\(\s*\)|,\s*\.", text), text
    assert "fewer than 3 seeds" in report_c2.c2_per_class_text(cpu["c2"])  # cpu's per-class cells have 2 seeds


def variant(variant_acc: list[float], recipe_acc: list[float]) -> dict:
    """A setup variant's summary as bank.variants_summary writes it (seeds 0 and 1)."""
    return {"test_acc_mean": float(np.mean(variant_acc)), "test_acc_std": float(np.std(variant_acc, ddof=1)), "seeds": 2,
            "train_seconds_mean": 700.0, "same_seeds": {"seeds": [0, 1], "variant": variant_acc, "recipe": recipe_acc}}


def test_setup_variants_are_read_seed_by_seed_and_the_seeds_decide_the_word():
    setup = {"test_acc_mean": 0.9344, "test_acc_std": 0.0006, "seeds": 4, "train_seconds_mean": 820.0,
             "variants": {"label_smoothing=0": variant([0.9261, 0.9270], [0.9339, 0.9340]),
                          "epochs=12": variant([0.9310, 0.9345], [0.9339, 0.9340])}}
    text = report.variants_text(setup)
    ls, ep = text.split(". ")[0], text.split(". ")[1]
    assert ls.startswith("With label smoothing = 0, seeds 0 and 1 reach") and "`" not in text and "92.61% and 92.70%" in ls and "-0.78 and -0.70 points" in ls
    assert ls.endswith("the recipe is the more accurate on both seeds, too few to claim a difference")
    assert "-0.29 and +0.05" in ep and "the seeds disagree" in ep and "interval" not in text  # 2 seeds: no interval
    setup["variants"]["epochs=12"] = variant([0.9350, 0.9345], [0.9339, 0.9340])
    assert "the alternative is the more accurate on both seeds, too few to claim a difference" in report.variants_text(setup)
    table = report.variants_table("airbench", setup, 14)
    assert table.loc["the same with label smoothing = 0", "minus the recipe, same seeds (points)"] == "-0.78, -0.70"
    assert table.loc["the airbench recipe (14 epochs)", "minus the recipe, same seeds (points)"] == "—"
    assert regimes.recipe_variants_text({"airbench": {}}) == "The airbench regime's setup runs are not committed yet."


def test_c2_parts_notes_say_what_the_parts_table_leaves_out(cpu):
    s = copy.deepcopy(cpu["c2"])
    whole, per = s["diff_to_random"]["grand_init"]["0.5"], s["per_class_to_random"]["grand_init"]["0.5"]
    text = report_c2.c2_parts_notes(s)
    assert f"is {report.cell(*whole[:3])} over the whole set" in text and report.cell(*per[:3]) in text
    if per[3] == stats.FEW_SEEDS:  # shown, not read
        assert "is not read" in text and "most of the gap" not in text
    s["per_class_to_random"]["grand_init"]["0.5"] = [whole[0] * 0.1, whole[0] * 0.2, 0.0, "below"]
    assert "most of the gap is the classes the whole-set subset starves" in report_c2.c2_parts_notes(s)
    s["per_class_to_random"]["grand_init"]["0.5"] = [whole[0] * 0.9, whole[0], whole[0] * 0.8, "below"]
    assert "the gap is not mainly class starvation" in report_c2.c2_parts_notes(s)
    n = min(s["seeds"]["forgetting"].values())
    assert (f"its cells have {n} seeds, too few for an interval" in text) == (n < stats.MIN_SEEDS)
    s["seeds"]["forgetting"] = {"0.5": 3}
    assert "read as every other comparison" in report_c2.c2_parts_notes(s)


def test_c1_names_each_net_as_a_reader_does(cpu):
    text = report_c1.by_model_text(cpu["c1"])
    assert "ResNet-18 " in text and "resnet18" not in text and "linear softmax " in text
    assert report_c1.net_name("fastnet") == "fastnet"


def test_a_shorter_budget_reading_states_the_differences_it_rests_on(cpu):
    P = profiles.resolve_profile("cpu")
    text = report_c3.other_settings_text(P, cpu["c3"])
    s = cpu["c3"]["by_budget"][str(min(P.c3_epochs))]
    for f, c in s["comparisons"]["random_dynamic_vs_random_static"].items():
        if float(f) >= 0.7:
            shown = f"{c[0] * 100:+.1f}" if c[3] == stats.FEW_SEEDS else report.cell(*c[:3])
            assert f"{float(f):.0%}: {shown}" in text
    assert text.startswith(f"At {min(P.c3_epochs)} epochs: random (dynamic) minus EL2N early (static): ")


def test_chapter_text_that_depends_on_the_profile_is_computed_for_each_regime(cpu):
    """Sentences typed once turned false at the other regime: what C1 scores, which second
    dataset it runs, the reference line of its curves, which C2 scores run at which fractions,
    how coarse C3's selection counts are and the training-loss axis are computed instead."""
    airbench = json.loads((COMMITTED.parent.parent / "airbench" / "summary.json").read_text())
    assert report_c1.scored_text(cpu["c1"]) == ("Images scored: fastnet on every image of both splits (50,000 for training); "
                                                "linear softmax on the first 10,000 of each split; ResNet-18 on the first 2,000 "
                                                "of each split.")
    assert report_c1.scored_text(airbench["c1"]).count(";") == 0 and "ResNet-18" not in report_c1.scored_text(airbench["c1"])
    assert report_c1.fashion_intro(cpu["c1"]).endswith("for fastnet and linear softmax:")
    assert report_c1.fashion_intro(airbench["c1"]).startswith("This profile scores no second dataset")
    assert report_c1.c1_fashion_text(airbench["c1"]) == ""
    assert report_c1.reference_rho(["fastnet", "linear", "resnet18"]) == (0.963, "Kirsch's fork, ResNet-18: 0.963")
    assert report_c1.reference_rho(["airbench"])[0] == 0.38 and report_c1.reference_rho(["fastnet"]) == (None, "")
    assert report_c2.c2_cells_text(profiles.resolve_profile("airbench")) == (
        "random, input norm ‖x‖₂, GraNd@init and EL2N early at 30%, 50% and 60% pruned; "
        "GraNd early, forgetting and GraNd@init (restore bug) at 50% only")
    assert ";" not in report_c2.c2_cells_text(profiles.resolve_profile("cpu"))  # every score at every fraction
    assert report_c3.selections_per_run_text(42, 3).startswith("Each run selected 14 times (Raju et al.'s runs: 20)")
    assert "coarser" not in report_c3.selections_per_run_text(60, 3) and report_c3.selections_per_run_text(0, 0) == ""
    assert report.train_loss_title(0.2) == "training loss (cross-entropy with label smoothing 0.2, nats)"
    assert report.train_loss_title(0.0) == "training loss (cross-entropy, nats)"


def test_generated_sentences_keep_their_grammar_and_their_numbers_at_the_edges(cpu):
    """Defects a reviewer reproduced with the committed summaries and edited copies of them: a
    verdict without its verb, a sentence in lower case, an inconclusive or absent gap read as a
    gap, a build-dependent published figure, "-0.0", "1.00x" for a speed below 1, singular counts."""
    airbench = json.loads((COMMITTED.parent.parent / "airbench" / "summary.json").read_text())
    both = {"cpu": cpu, "airbench": airbench}
    assert regimes.agreement("c3", both).startswith("The regimes agree: claim C3 is inconclusive in each")
    assert "claim C3 is **inconclusive** at" in regimes.claim_table("c3", both)
    for name in ("cpu", "airbench"):
        assert not re.search(r"\. [a-z]", report_c3.runs_text(profiles.resolve_profile(name)))
    unread = {k: v for k, v in airbench["c3"].items() if k != "iterations"}  # a grid still running
    assert report_c3.iterations_text(unread, planned=True) == "This profile's equal-iterations cells are still to run."
    # Equal iterations: a spread that comes from one seed shows in the runs, which give the mean.
    table = report_c3.iterations_table(airbench["c3"])
    for selector, row in table.iterrows():
        runs = [float(a) for a in row["each run (%, by seed)"].split(", ")]
        assert len(runs) == row["seeds"] and abs(sum(runs) / len(runs) - float(row["accuracy (%)"].split(" ± ")[0])) <= 0.1, selector
    assert "each run (%, by seed)" not in report_c3.iterations_table(
        {"iterations": {k: v for k, v in airbench["c3"]["iterations"].items() if k != "runs"}}).columns
    assert report_c3.iterations_period_text(profiles.resolve_profile("airbench")).startswith(
        "A run then makes 47 passes over its kept 30%, and the dynamic selectors re-select every 2 passes")
    assert report_c3.iterations_period_text(profiles.resolve_profile("cpu")) == ""
    # A row read "at chance" or "mixed" says what each fraction reads; a uniform row stays one word.
    readings = report_c3.comparisons_table(airbench["c3"]).reading.droplevel(0)
    assert readings["UCB minus random (dynamic)"] == "at chance (70%, 80%: below; 90%: at chance)"
    assert readings["random (dynamic) minus random (static)"] == "mixed (70%, 80%: above; 90%: no detectable difference)"
    assert readings["random (dynamic) minus EL2N early (static)"] == "above"
    # InfoBatch paired with a rate far from the share it skipped is not called an equal cost.
    infobatch = [c for c in readings.index if c.startswith("InfoBatch")]
    assert len(infobatch) == 1 and "trained on 57% of the images, random (dynamic) on 30%, not an equal cost" in infobatch[0]
    # Class skew named as the cause, and a random first selection that also lifts a selector is said.
    collapse = report_c3.collapse_text(airbench["c3"]["collapse"])
    assert "The collapse is class skew" in collapse and "A random first selection also lifts ε-greedy and UCB" in collapse
    flat = copy.deepcopy(airbench["c3"]["collapse"])
    for s in ("epsilon_greedy", "ucb"):
        flat[f"{s}_random_first_minus_as_specified"][3] = "no detectable difference"
    assert "A random first selection also" not in report_c3.collapse_text(flat)
    assert "linear softmax ρ = 0.997" in report_c1.c1_fashion_text(cpu["c1"])
    # The published column is the claim's own figure whichever regime the build puts first.
    first_airbench = regimes.verdict_table({"airbench": airbench, "cpu": cpu}).splitlines()[2]
    assert "| ρ = 0.963 (Kirsch's fork, ResNet-18) |" in first_airbench and "Nearest published figure: ρ = 0.963" not in first_airbench
    # C2's note on the gap speaks of a gap only where the whole-set subset is below random.
    level = copy.deepcopy(cpu["c2"])
    level["diff_to_random"]["grand_init"]["0.5"] = [-0.002, -0.008, 0.004, "no detectable difference"]
    level["per_class_to_random"]["grand_init"]["0.5"] = [0.0, -0.005, 0.006, "no detectable difference"]
    assert "gap" not in report_c2.c2_parts_notes(level) and "0.0 [-0.5, +0.6]" in report_c2.c2_parts_notes(level)
    text = report_c3_cost.speed_text(cpu["c3"])
    assert "  " not in text and report_c3_cost.times(0.998) == "0.998×" and report_c3_cost.times(1.46) == "1.46×"
    assert report.cell(-0.0004, -0.026, 0.026) == "0.0 [-2.6, +2.6]"
    assert report_c3.selections_per_run_text(8, 1).startswith("The one run selected 8 times")
    one = {"variants": {"epochs=12": {"same_seeds": {"seeds": [0], "variant": [0.9305], "recipe": [0.9339]}}}}
    assert report.variants_text(one).startswith("With epochs = 12, seed 0 reaches 93.05%")
    assert "the recipe is the more accurate on its one seed" in report.variants_text(one)


def test_prune_table_shows_training_throughput_and_names_runs_timed_at_another_rate():
    """ε-greedy and InfoBatch at airbench were timed on a host 1.8x faster than full data's: the
    70% table gives every row's training rate, and the note names the rows far from full data's
    (Selective-Backprop trains on part of each batch, so its rate differs by design)."""
    rows = [("full", 0.0, 0, 1000, 10.0, 0.0), ("random_dynamic", 0.7, 0, 300, 3.1, 0.0),
            ("ucb", 0.7, 0, 300, 5.0, 2.0), ("infobatch", 0.7, 0, 600, 3.0, 0.0),
            ("selective_backprop", 0.7, 0, 300, 6.0, 0.0)]
    runs = pd.DataFrame([{"selector": s, "prune": p, "seed": k, "epochs": 2, "images_seen": n, "train_seconds": t,
                          "scoring_seconds": sc, "wallclock_s": t, "test_acc": 0.5 + 0.01 * k}
                         for s, p, _, n, t, sc in rows for k in range(3)])
    speed = c3.training_throughput(runs, 2)
    assert speed.to_dict() == pytest.approx({"full": 100.0, "random_dynamic": 300 / 3.1, "ucb": 100.0,
                                             "infobatch": 200.0, "selective_backprop": 50.0})
    table = report_c3_cost.prune_table(runs, 2)
    assert table.loc["UCB", "training img/s"] == "100" and table.loc["full data", "training img/s"] == "100"
    note = report_c3_cost.throughput_drift_text(runs, 2)
    assert note.startswith("Training throughput, scoring left out: full data 100 img/s; InfoBatch 200 (2.00× full data's).")
    assert "Selective-Backprop" not in note and "UCB" not in note.split("The same")[0]
    assert report_c3_cost.throughput_drift_text(runs[runs.selector != "infobatch"], 2) == ""
