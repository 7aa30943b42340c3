"""A stretch on a lent host (module stretch): setup whole, the rest within the time limit, the
results exported and imported back whole; the engine chosen from the bench."""
import json

import pytest

from datadiet_core import ParameterError, bank, profiles, store, stretch
from test_sweep import TINY


def test_the_engine_is_the_fastest_one_the_bench_measured():
    assert stretch.engine_of({"train_img_s_by_engine": {"off": 40e3, "default": 61e3, "reduce-overhead": 55e3}},
                             "off") == "default"
    assert stretch.engine_of({"train_img_s": 3000.0}, "off") == "off"  # a CPU bench compares none


def test_a_stretch_runs_setup_whole_then_what_fits_and_its_results_import_back(results_dir, tmp_path):
    P = profiles.resolve_profile("smoke", **TINY)
    out = tmp_path / "out"
    # Past the limit at once: setup still runs whole (its scores free the checkpoints), c2 waits.
    first = stretch.run(P, out, minutes=1e-6, bench_mode="none", claims=("setup", "c2"), progress=None)
    assert [s["step"] for s in first["steps"]] == ["sweep setup", "sweep c2", "store export"]
    assert first["steps"][0]["result"] == "done: 8/8 runs (0 from store)"
    assert first["steps"][1]["skipped"] == "no time left"
    assert json.loads((out / "stretch.json").read_text()) == first
    # The next stretch goes on from the store.
    second = stretch.run(P, out, minutes=30, bench_mode="none", claims=("setup", "c2"), progress=None)
    assert second["steps"][0]["result"] == "done: 8/8 runs (8 from store)"
    assert second["steps"][1]["result"] == "done: 25/25 runs (8 from store)"
    # Carried back: every entry imports and verifies into an empty store.
    home = store.Store(tmp_path / "home" / "smoke")
    got = bank.import_results(out / "results" / "results-smoke.parts.json", home)
    assert got == {"added": 25, "present": 0}
    assert len(list(home.entries("train"))) == len(list(store.Store.for_profile("smoke").entries("train")))


def test_a_stretch_reads_an_earlier_bench_and_sweeps_with_its_fastest_engine(results_dir, tmp_path):
    earlier = {"device": "cuda:0", "model": "fastnet", "batch_size": 100, "train_img_s": 40000.0, "gpu": "NVIDIA H200",
               "cpu": "x", "threads": 16, "precision": "bfloat16", "compile": "off",
               "train_img_s_by_engine": {"off": 40000.0, "default": 52000.0}}
    (tmp_path / "bench.json").write_text(json.dumps(earlier))
    P = profiles.resolve_profile("smoke", **TINY)
    out = tmp_path / "out"
    done = stretch.run(P, out, minutes=30, bench_json=tmp_path / "bench.json", claims=("setup",), progress=None)
    assert done["steps"][0]["engine"] == "default" and done["steps"][-1]["engine"] == "default"
    assert json.loads((out / "bench.json").read_text()) == earlier
    saved = json.loads((out / "throughput.json").read_text())
    assert saved["cuda"]["fastnet@100"] == 52000.0 and "compile default" in saved["hosts"]["cuda"]
    assert "cpu" in saved  # the checkout's own figures are kept beside it
    runs = list(store.Store.for_profile("smoke").entries("train"))
    assert runs and {r.metrics["compile"] for r in runs} == {"default"}  # the manifests name the engine


@pytest.mark.parametrize("kw,message", [
    ({"minutes": 0}, "parameter 'minutes' must be a number > 0"),
    ({"bench_mode": "fast"}, "parameter 'bench' must be one of full, quick, none"),
    ({"claims": ("c4",)}, "parameter 'claim' must be one of"),
    ({"data_index": "/nonexistent/cifar10.parts.json"}, "parameter 'data' must be a .parts.json"),
    ({"part_mb": 0}, "parameter 'part_mb' must be"),
    ({"bench_json": "/nonexistent/bench.json"}, "parameter 'bench_json' must be a file written by bench --json"),
])
def test_bad_stretch_input_stops_before_anything_runs(kw, message, results_dir, tmp_path):
    args = {"minutes": 5, "bench_mode": "none", **kw}
    with pytest.raises(ParameterError, match=message):
        stretch.run("smoke", tmp_path / "out", progress=None, **args)
    assert not (tmp_path / "out").exists() and not results_dir.exists()
