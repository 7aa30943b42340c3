import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import datadiet_core
from datadiet_core import ParameterError, store


def test_put_get_roundtrip_and_manifest_contents(tmp_path):
    s = store.Store(tmp_path)
    cfg = {"model": "fastnet", "seed": 3, "fractions": (0.3, 0.5)}
    rec = s.put("train", cfg, {"test_acc": 0.84}, {"scores": np.arange(5, dtype=np.float32)}, seed=3)
    got = s.get("train", cfg)
    assert got is not None and got.path == rec.path
    assert got.metrics == {"test_acc": 0.84}
    np.testing.assert_array_equal(got.arrays["scores"], np.arange(5, dtype=np.float32))
    m = got.manifest
    assert m["config"]["fractions"] == [0.3, 0.5] and m["seed"] == 3
    assert m["code_version"] == datadiet_core.CODE_VERSION
    assert m["environment"]["packages"]["torch"] and "checksums" in m


def test_key_depends_on_config_kind_and_code_version(monkeypatch):
    a = store.config_key("train", {"seed": 0})
    assert a == store.config_key("train", {"seed": 0})
    assert a != store.config_key("train", {"seed": 1})
    assert a != store.config_key("scores", {"seed": 0})
    monkeypatch.setattr(store, "CODE_VERSION", "999")
    assert a != store.config_key("train", {"seed": 0})


def test_cached_computes_once_then_reads(tmp_path):
    s = store.Store(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"x": len(calls)}, {"a": np.ones(3)}

    first = s.cached("train", {"k": 1}, compute)
    second = s.cached("train", {"k": 1}, compute)
    assert len(calls) == 1 and first.metrics == second.metrics == {"x": 1}
    forced = s.cached("train", {"k": 1}, compute, force=True)
    assert len(calls) == 2 and forced.metrics == {"x": 2}
    assert s.get("train", {"k": 1}).metrics == {"x": 2}


@pytest.mark.parametrize("damage", ["truncate_arrays", "edit_metric", "delete_manifest", "garbage_manifest"])
def test_corrupt_entries_are_detected_and_recomputed(tmp_path, damage):
    s = store.Store(tmp_path)
    rec = s.put("train", {"k": 1}, {"acc": 0.5}, {"a": np.arange(1000.0)})
    if damage == "truncate_arrays":
        p = rec.path / store.ARRAYS
        p.write_bytes(p.read_bytes()[:100])
    elif damage == "edit_metric":
        m = json.loads((rec.path / store.MANIFEST).read_text())
        m["metrics"]["acc"] = 0.99  # a hand-edited result
        (rec.path / store.MANIFEST).write_text(json.dumps(m))
    elif damage == "delete_manifest":
        (rec.path / store.MANIFEST).unlink()
    else:
        (rec.path / store.MANIFEST).write_text("{not json")
    assert s.get("train", {"k": 1}) is None
    assert not rec.path.exists()
    again = s.cached("train", {"k": 1}, lambda: ({"acc": 0.5}, {"a": np.arange(1000.0)}))
    assert again.metrics == {"acc": 0.5}


def test_a_killed_writer_leaves_no_entry(tmp_path):
    """kill -9 while the arrays are being written: no entry appears, a rerun computes it."""
    script = textwrap.dedent(f"""
        import numpy as np, sys, time
        from datadiet_core import store
        s = store.Store({str(tmp_path)!r})
        real = np.savez_compressed
        def slow_savez(f, **arrays):
            real(f, **arrays)
            print("written", flush=True)
            time.sleep(60)  # killed here, before the rename
        np.savez_compressed = slow_savez
        s.put("train", {{"k": 1}}, {{"acc": 1.0}}, {{"a": np.ones(10)}})
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "written"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    s = store.Store(tmp_path)
    assert s.get("train", {"k": 1}) is None
    assert s.entries("train") == []
    assert s.cached("train", {"k": 1}, lambda: ({"acc": 1.0}, {})).metrics == {"acc": 1.0}


def test_arrays_are_never_unpickled(tmp_path):
    s = store.Store(tmp_path)
    rec = s.put("train", {"k": 1}, {}, {"a": np.ones(2)})
    # Replace the arrays with an object array (which only pickle can hold) and re-checksum it.
    with open(rec.path / store.ARRAYS, "wb") as f:
        np.savez(f, a=np.array([{"evil": 1}], dtype=object))
    m = json.loads((rec.path / store.MANIFEST).read_text())
    m["checksums"][store.ARRAYS] = store._sha256_file(rec.path / store.ARRAYS)
    (rec.path / store.MANIFEST).write_text(json.dumps(m))
    with pytest.raises(ValueError, match="allow_pickle"):
        _ = s.get("train", {"k": 1}).arrays


def test_kind_is_validated(tmp_path):
    with pytest.raises(ParameterError, match="parameter 'kind'"):
        store.Store(tmp_path).path("../escape", {})


def test_summary_sections_merge(results_dir):
    store.write_summary("smoke", "setup", {"acc": 0.5})
    store.write_summary("smoke", "c1", {"rho": 0.9})
    assert store.read_summary("smoke") == {"setup": {"acc": 0.5}, "c1": {"rho": 0.9}}
    assert (results_dir / "smoke" / "summary.json").exists()


def test_object_arrays_are_refused_before_anything_is_written(tmp_path):
    s = store.Store(tmp_path)
    with pytest.raises(TypeError, match="dtype object"):
        s.put("analysis", {"k": 1}, {}, {"names": np.array(["a", None], dtype=object)})
    assert s.get("analysis", {"k": 1}) is None and not any(tmp_path.rglob("manifest.json"))
    rec = s.put("analysis", {"k": 2}, {}, {"names": np.array(["a", "bb"])})
    assert rec.arrays["names"].tolist() == ["a", "bb"]


@pytest.mark.parametrize("values,stored", [
    (np.array([0, 3, 255], np.int32), np.uint8), (np.array([-5, 100], np.int64), np.int8),
    (np.array([0, 70_000], np.int32), np.int32), (np.array([-1, 2**40], np.int64), np.int64),
    (np.array([0.0, 2.0, np.inf, 17.0]), np.float16), (np.array([0.1, np.nan], np.float32), np.float32),
    (np.array([0.5, 1 / 3]), np.float64), (np.array([1 / 3], np.float32).astype(np.float64), np.float32)])
def test_arrays_are_stored_in_the_smallest_exact_dtype_and_read_back_unchanged(tmp_path, values, stored):
    assert store.smallest_exact(values).dtype == stored
    s = store.Store(tmp_path)
    s.put("train", {"k": 1}, {}, {"a": values})
    with np.load(s.path("train", {"k": 1}) / store.ARRAYS, allow_pickle=False) as z:
        assert z["a"].dtype == stored
    back = s.get("train", {"k": 1}).arrays["a"]
    assert back.dtype == values.dtype and np.array_equal(back, values, equal_nan=True)


def test_rewrite_compresses_drops_and_keeps_key_and_timings(tmp_path):
    s = store.Store(tmp_path)
    counts = np.zeros(50_000, np.int32)
    counts[::7] = 3
    rec = s.put("train", {"k": 1}, {"acc": 0.5}, {"counts": counts, "ckpt/0.1/w": np.ones((64, 64)),
                                                 "history/acc": np.arange(3.0)}, wall_seconds=12.5)
    new = s.rewrite(rec, drop=("ckpt/",))
    got = s.get("train", {"k": 1})
    assert got is not None and got.path == rec.path and sorted(got.arrays) == ["counts", "history/acc"]
    assert got.dropped == ["ckpt/"] and got.manifest["wall_seconds"] == 12.5
    assert got.manifest["created"] == rec.manifest["created"] and new.metrics == {"acc": 0.5}
    np.testing.assert_array_equal(got.arrays["counts"], counts)
    assert (rec.path / store.ARRAYS).stat().st_size < counts.nbytes / 20
    assert [p.name for p in (tmp_path / "train").iterdir()] == [rec.path.name]  # no leftovers
    again = s.rewrite(got)  # dropping is remembered
    assert again.dropped == ["ckpt/"]
    with pytest.raises(ParameterError, match="parameter 'store' must be writable"):
        s.reader().rewrite(got)
