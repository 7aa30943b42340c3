"""Both regimes side by side (module regimes): the introduction's table and each chapter's
agreement sentence, from real headlines (the committed cpu summary) and a second regime."""
import copy
import json
from pathlib import Path

import pytest

from datadiet_core import regimes

COMMITTED = Path(__file__).resolve().parent.parent / "results" / "cpu" / "summary.json"


@pytest.fixture(scope="module")
def cpu():
    return json.loads(COMMITTED.read_text())


def test_a_book_shows_its_own_profile_first_then_the_committed_regimes():
    assert regimes.regime_profiles("cpu") == ["cpu", "gpu"]
    assert regimes.regime_profiles("smoke") == ["smoke", "cpu", "gpu"]


def test_verdict_table_has_one_column_per_regime_and_says_what_is_not_computed(cpu):
    table = regimes.verdict_table({"cpu": cpu, "gpu": {}})
    header, rule, *rows = table.strip().splitlines()
    assert header == "| claim | published | `cpu` regime | `gpu` regime |" and rule == "|---|---|---|---|"
    assert len(rows) == 3 and all(r.count(" | ") == 3 and r.endswith("| not computed yet |") for r in rows)
    c2 = next(r for r in rows if r.startswith("| [C2]"))
    h = cpu["c2"]["headline"]
    assert f"**{h['verdict']}**" in c2 and h["regime"] in c2 and "Kirsch's fork" in c2
    c3 = next(r for r in rows if r.startswith("| [C3]"))
    assert "random dynamic minus full data at 80% pruned: " in c3.split(" | ")[2]  # ours, in the regime's cell
    assert "ours" not in c3.split(" | ")[1]  # the published column holds published figures only


def test_agreement_says_whether_the_regime_changes_the_answer(cpu):
    other = copy.deepcopy(cpu)
    other["c2"]["headline"]["verdict"] = "holds" if cpu["c2"]["headline"]["verdict"] != "holds" else "fails"
    other["c2"]["headline"]["regime"] = "resnet18, 40 epochs"
    both = {"cpu": cpu, "gpu": other}
    assert regimes.agreement("c1", both).startswith(f"The regimes agree: claim C1 {cpu['c1']['headline']['verdict']} in every")
    changed = regimes.agreement("c2", both)
    assert changed.startswith("The regime changes the answer on claim C2") and "resnet18, 40 epochs" in changed
    alone = regimes.agreement("c3", {"cpu": cpu, "gpu": {}})
    assert alone.startswith("Only the cpu regime has a verdict on claim C3") and alone.endswith(
        "The gpu regime has no results committed yet.") and "`" not in alone  # plain text: glued, not parsed
    rows = regimes.claim_table("c2", both).strip().splitlines()[2:]
    assert [r.split(" | ")[0] for r in rows] == ["| `cpu`", "| `gpu`"]
    assert f"**{other['c2']['headline']['verdict']}**" in rows[1] and cpu["c2"]["headline"]["regime"] in rows[0]
    assert regimes.claim_table("c2", {"cpu": cpu, "gpu": {}}).strip().endswith("| `gpu` | not computed yet | | | |")
