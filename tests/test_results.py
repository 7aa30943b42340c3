"""The committed results: every number of ``results/cpu/summary.json`` follows from the
committed store by today's code (read only: nothing is computed, nothing is written)."""
import json
import math

import pytest

from datadiet_core import profiles, summaries
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


@pytest.mark.parametrize("profile", ["cpu", "airbench"])
def test_committed_summary_follows_from_the_committed_store(profile, monkeypatch):
    """Each regime's committed summary.json is what summaries.build computes from its committed
    store today (every section that is committed; a regime whose grid is still running commits
    the sections whose runs are all stored)."""
    monkeypatch.delenv("DATADIET_RESULTS", raising=False)  # the committed results/, read only
    path = results_root() / profile / "summary.json"
    if not path.exists():
        pytest.skip(f"no summary committed for {profile} yet")
    committed = json.loads(path.read_text())
    P = profiles.resolve_profile(profile)
    new = summaries.build(P, Store(results_root() / profile, read_only=True), tuple(committed))
    assert set(new) == set(committed)  # every committed section has all its runs in the store
    assert differences(committed, json.loads(canonical_json(new))) == []
