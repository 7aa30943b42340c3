"""Both regimes side by side (module regimes): the introduction's table and each chapter's
agreement sentence, from real headlines (the committed cpu summary) and a second regime."""
import copy
import json
from pathlib import Path

import pytest

from datadiet_core import regimes, selection

COMMITTED = Path(__file__).resolve().parent.parent / "results" / "cpu" / "summary.json"


@pytest.fixture(scope="module")
def cpu():
    return json.loads(COMMITTED.read_text())


def test_a_book_shows_its_own_profile_first_then_the_committed_regimes():
    assert regimes.regime_profiles("cpu") == ["cpu", "airbench"]
    assert regimes.regime_profiles("smoke") == ["smoke", "cpu", "airbench"]


def test_verdict_table_has_one_column_per_regime_and_says_what_is_not_computed(cpu):
    table = regimes.verdict_table({"cpu": cpu, "airbench": {}})
    header, rule, *rows = table.strip().splitlines()
    acc = f"{cpu['setup']['test_acc_mean'] * 100:.1f}%"
    assert header == f"| claim | published | `cpu`: fastnet, 8 epochs, full data {acc} | `airbench` (not computed yet) |"
    assert rule == "|---|---|---|---|"
    assert len(rows) == 3 and all(r.count(" | ") == 3 and r.endswith("| not computed yet |") for r in rows)
    c2 = next(r for r in rows if r.startswith("| [C2]"))
    h = cpu["c2"]["headline"]
    assert f"**{h['verdict']}**" in c2 and h["regime"] in c2 and "Kirsch's fork" in c2
    assert "EL2N early above random: " + h["parts"]["el2n_early"]["verdict"] in c2  # the parts, each with its word
    c3 = next(r for r in rows if r.startswith("| [C3]"))
    assert "random dynamic above static random: " in c3.split(" | ")[2]  # ours, in the regime's cell
    # An inconclusive part read alike at every fraction says so (the committed cpu one: no detectable difference).
    assert set(cpu["c3"]["headline"]["parts"]["random_dynamic_vs_random_static"]["directions"].values()) == {
        "no detectable difference"}
    assert "static random: inconclusive (no detectable difference at every fraction), " in c3
    cost = cpu["c3"]["headline"]["parts"]["random_dynamic_vs_full_at_0.8"]  # beside Raju's -3.5: our own number
    assert f"{cost['at']['effect'] * 100:+.1f} [{cost['at']['ci'][0] * 100:+.1f}, {cost['at']['ci'][1] * 100:+.1f}] at 80%" in c3
    assert "ours" not in c3.split(" | ")[1]  # the published column holds published figures only


def test_build_note_says_where_the_build_stands_and_what_is_not_committed(cpu):
    high = copy.deepcopy(cpu)
    high["setup"]["test_acc_mean"] = 0.934
    pending = {"progress": {"c2": {"stored": 35, "runs": 39, "command": "c"}}, "setup": high["setup"]}
    note = regimes.build_note("c2", {"cpu": cpu, "airbench": pending}, "cpu")
    assert note.startswith(f"This build's regime, cpu, is short of the papers' accuracy ({cpu['setup']['test_acc_mean'] * 100:.1f}%")
    assert note.endswith("beside the airbench regime's once its headline's runs are all committed (35 of 39 are).")
    assert "is near the papers' accuracy (93.4% on full data" in regimes.build_note("c2", {"airbench": high, "cpu": cpu}, "airbench")
    assert regimes.build_note("c2", {"airbench": high, "cpu": cpu}, "airbench").endswith("beside the cpu regime's.")
    assert regimes.build_note("c3", {"smoke": {}}, "smoke") == "This build's regime, smoke, is not yet computed."


def test_agreement_says_where_the_regimes_agree_and_which_parts_the_regime_changes(cpu):
    other = copy.deepcopy(cpu)
    h = other["c2"]["headline"]
    h["parts"]["el2n_early"]["verdict"] = "holds" if h["parts"]["el2n_early"]["verdict"] != "holds" else "fails"
    h["verdict"] = "holds" if cpu["c2"]["headline"]["verdict"] != "holds" else "fails"
    h["regime"] = "airbench, 14 epochs"
    both = {"cpu": cpu, "airbench": other}
    assert regimes.agreement("c1", both).startswith(f"The regimes agree: claim C1 {regimes.verdict_phrase(cpu['c1']['headline']['verdict'])} in each")
    changed = regimes.agreement("c2", both)
    assert changed.startswith("The regime changes the answer on claim C2") and "Parts the regime changes: EL2N early" in changed
    assert "Parts on which they agree: GraNd@init not above random" in changed
    alone = regimes.agreement("c3", {"cpu": cpu, "airbench": {}})
    assert alone.startswith("Only the cpu regime has a verdict on claim C3") and alone.endswith(
        "The airbench regime has no verdict on claim C3 yet: its headline's runs are not all committed.") and "`" not in alone  # plain text: glued, not parsed
    table = regimes.claim_table("c2", both)
    assert table.count("| part | verdict |") == 2 and "airbench, 14 epochs" in table
    # in a chapter that has shown this build's parts above, its table is referred to, not repeated
    chapter = regimes.claim_table("c2", both, above="cpu")
    assert chapter.count("| part | verdict |") == 1 and "**`cpu`**: claim C2" in chapter and "(its parts: the table above)" in chapter
    assert regimes.claim_table("c2", {"cpu": cpu, "airbench": {}}).strip().endswith("not computed yet.")
    assert "| regime | full-data test accuracy |" in regimes.setup_table({"cpu": cpu, "airbench": {}})


def test_c1_headlines_on_different_nets_are_told_apart_from_a_regime_change(cpu):
    # C1 is measured at initialisation: the cpu headline rests on ResNet-18, the airbench one on
    # its own net, so what differs between the regimes is the net, not the training budget.
    airbench = json.loads((COMMITTED.parent.parent / "airbench" / "summary.json").read_text())
    both = {"cpu": cpu, "airbench": airbench}
    text = regimes.agreement("c1", both)
    h, a = cpu["c1"]["headline"], airbench["c1"]["headline"]
    assert h["model"] == "resnet18" and a["model"] == "airbench"
    lead = ("The regimes agree" if h["verdict"] == a["verdict"] else
            "The net, not the training budget, changes the answer on claim C1")
    assert text.startswith(lead) and "The regime changes the answer" not in text
    assert f"{a['verdict']} for the airbench network in airbench (ρ = {a['effect']:.3f} [{a['ci'][0]:.3f}, {a['ci'][1]:.3f}]; published 0.38)" in text
    assert f"{h['verdict']} for ResNet-18 in cpu" in text and "published 0.963" in text
    own = h["effects"]["fastnet"]
    assert f"published 0.963), and {own['verdict']} for the fastnet network, the regime's own (ρ = {own['effect']:.3f}" in text
    row = next(r for r in regimes.verdict_table(both).splitlines() if r.startswith("| [C1]"))
    cells = row.split(" | ")
    assert cells[1].startswith("ρ = 0.963") and "Nearest published" not in cells[2]
    assert cells[3].endswith("<br>Nearest published figure: ρ = 0.38 (Kirsch's PyTorch code, hlb net with a whitening "
                             "stem, 100 inits). |")
    own = h["effects"]["fastnet"]  # the cpu headline is ResNet-18's; the regime's own net stands beside it
    assert cells[2].endswith(f"<br>This regime's own net, fastnet: {own['verdict']}, ρ = {own['effect']:.3f} "
                             f"[{own['ci'][0]:.3f}, {own['ci'][1]:.3f}] (50,000 images).")


def test_collapse_table_gives_each_regime_its_loss_driven_selectors_and_the_cause_its_rules_found(cpu):
    """The committed cpu diagnosis (2 seeds a variant: no interval, so no cause) beside a regime
    whose per-class runs lift every run at chance (the rule's cause), and one not diagnosed yet."""
    second = copy.deepcopy(cpu)
    c = second["c3"]["collapse"]
    c["acc"] = {"uncertainty_ema:as specified": [0.141, 0.018, 3], "ucb:as specified": [0.2, 0.05, 3],
                "uncertainty_ema:random_first": [0.12, 0.01, 3], "ucb:random_first": [0.3, 0.02, 3],
                "uncertainty_ema:per_class": [0.8, 0.01, 3], "ucb:per_class": [0.82, 0.01, 3]}
    c["class_turnover"] = {"uncertainty_ema:as specified": 0.97, "ucb:as specified": 0.5}
    c.update(at_chance={"uncertainty_ema": True, "ucb": False}, class_skew_is_the_cause=True,
             first_selection_is_the_cause=False,
             uncertainty_ema_per_class_minus_as_specified=[0.66, 0.6, 0.7, "above"])
    table = regimes.collapse_table({"cpu": cpu, "airbench": second, "paper": {}})
    header, rule, *rows = table.strip().split("\n\n")[0].splitlines()
    assert header == ("| regime | selector | as specified | per class | first selection random | "
                      "class turnover, as specified |") and rule == "|---" * 6 + "|"
    n = len(selection.VARIANT_SELECTORS)  # a row per diagnosed selector in each computed regime
    assert len(rows) == 2 * n + 1 and rows[-1].startswith("| `paper` (not computed yet) | not computed yet |")
    assert all(r.count("|") == 7 for r in rows)  # every row has all six cells
    ema = rows[n].split(" | ")
    assert ema[1:] == ["uncertainty EMA", "14.1 ± 1.8% (3 seeds)", "80.0 ± 1.0% (3 seeds)", "12.0 ± 1.0% (3 seeds)", "97% |"]
    assert rows[n + 1].split(" | ")[1:] == ["ε-greedy", "not run", "not run", "not run", "not run |"]
    first = cpu["c3"]["collapse"]["acc"]["uncertainty_ema:as specified"]
    assert f"{first[0] * 100:.1f} ± {first[1] * 100:.1f}% (2 seeds)" in rows[0]
    cause = table.strip().split("\n\n")[1]
    assert cause.startswith("At chance means below 15% for some seed. ")
    assert ("`airbench`: uncertainty EMA at chance as specified; cause: class skew (selecting per class lifts "
            "every run at chance above chance)") in cause
    assert "`cpu`: uncertainty EMA at chance as specified; cause: not established (the variants' runs have " in cause
    # Random dynamic, where a regime's runs kept their classes, in a row after the diagnosed; a run
    # stored before runs kept their classes has no turnover to show.
    c["acc"] |= {"epsilon_greedy:as specified": [0.543, 0.093, 3], "random_dynamic:as specified": [0.895, 0.002, 3]}
    c["class_turnover"]["random_dynamic:as specified"] = 0.011
    rows = regimes.collapse_table({"airbench": second}).strip().split("\n\n")[0].splitlines()[2:]
    assert [r.split(" | ")[1] for r in rows] == ["uncertainty EMA", "ε-greedy", "UCB", "random (dynamic)"]
    assert rows[1].split(" | ")[2:] == ["54.3 ± 9.3% (3 seeds)", "not run", "not run", "not stored |"]
    assert rows[-1].split(" | ")[2:] == ["89.5 ± 0.2% (3 seeds)", "not run", "not run", "1% |"]


def test_restore_bug_table_reads_each_regime_by_the_chapter_rule(cpu):
    """The committed cpu checks (2 seeds: not read) beside a regime whose buggy scores prune like
    forgetting and above GraNd@init (the rule's "fits"), one whose headline alone is stated, and
    one not computed."""
    second = copy.deepcopy(cpu)
    second["c2"]["checks"] = {"restore_bug_minus_grand_init": {"0.5": [0.024, 0.019, 0.029, "above"]},
                              "restore_bug_minus_forgetting": {"0.5": [-0.005, -0.010, 0.001, "no detectable difference"]}}
    partial = copy.deepcopy(cpu)
    partial["c2"]["checks"] = {"restore_bug_minus_grand_init": {}, "restore_bug_minus_forgetting": {}}
    partial["c2"]["headline"]["pending"] = {"runs": 3, "command": "c"}
    header, rule, *rows = regimes.restore_bug_table({"cpu": cpu, "airbench": second, "gpu": partial,
                                                     "paper": {}}).strip().splitlines()
    assert header.startswith("| regime | GraNd@init (restore bug) minus GraNd@init, 50% pruned |") and rule == "|---" * 4 + "|"
    assert len(rows) == 4 and all(r.count("|") == 5 for r in rows)
    d = cpu["c2"]["checks"]["restore_bug_minus_grand_init"]["0.5"][0]
    assert rows[0].split(" | ")[1:] == [f"{d * 100:+.1f} (fewer than 3 seeds: no interval)",
                                        f"{cpu['c2']['checks']['restore_bug_minus_forgetting']['0.5'][0] * 100:+.1f} "
                                        "(fewer than 3 seeds: no interval)", "not read (fewer than 3 seeds) |"]
    assert rows[1].split(" | ")[1:] == ["+2.4 [+1.9, +2.9] above", "-0.5 [-1.0, +0.1] no detectable difference", "fits |"]
    assert "read once the grid is complete" in rows[2] and rows[3].endswith("| not computed yet | | |")
