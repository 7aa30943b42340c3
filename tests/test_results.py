"""The committed results: every number of ``results/cpu/summary.json`` follows from the
committed store by today's code (read only: nothing is computed, nothing is written)."""
import json
import math

import pytest

from datadiet_core import bank, c1, c2, c3, c3_picks, profiles
from datadiet_core.store import Store, canonical_json, results_root

pytestmark = pytest.mark.slow


def differences(old, new, path=""):
    """Paths where two JSON values differ (floats to 1e-12 relative)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) | set(new)) for d in (
            [f"{path}/{k}: only in one"] if k not in old or k not in new else differences(old[k], new[k], f"{path}/{k}"))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(old, float) and isinstance(new, (int, float)) and not isinstance(new, bool):
        same = old == new or (math.isnan(old) and math.isnan(new)) or abs(old - new) <= 1e-12 * max(abs(old), abs(new))
        return [] if same else [f"{path}: {old} != {new}"]
    return [] if old == new else [f"{path}: {old!r} != {new!r}"]


def test_differences_finds_what_differs():
    assert differences({"a": [1.0, {"b": True}]}, {"a": [1.0, {"b": True}]}) == []
    assert differences({"a": [1.0, 2.0]}, {"a": [1.0, 2.5]}) == ["/a[1]: 2.0 != 2.5"]
    assert differences({"a": 1}, {"b": 1}) == ["/a: only in one", "/b: only in one"]


def test_committed_cpu_summary_follows_from_the_committed_store(monkeypatch, tmp_path):
    monkeypatch.delenv("DATADIET_RESULTS", raising=False)  # the committed results/, read only
    P = profiles.resolve_profile("cpu")
    store = Store(results_root() / "cpu", read_only=True)
    runs2 = c2.load(P, store)
    tables = c1.load(P, store)
    new = {"setup": bank.baseline_summary(bank.scoring_runs(P, store)),
           "c1": c1.summary(P, tables["curves"], c1.ratio(P, store)["fit"]),
           "c2": c2.summary(P, runs2, c2.differences(runs2)),
           "c3": c3.summary(P, c3.load(P, store))}
    # The sections the chapters add from further reads of the store, as the notebooks do.
    new["c2"]["early_checkpoint"] = c2.early_checkpoint(P, store)
    new["c2"]["budget_conventions"] = c2.budget_conventions(P, store, runs2)
    new["c3"]["collapse"] = c3_picks.collapse_summary(P, c3_picks.divergence_checks(P, store))
    committed = json.loads((results_root() / "cpu" / "summary.json").read_text())
    assert differences(committed, json.loads(canonical_json(new))) == []
