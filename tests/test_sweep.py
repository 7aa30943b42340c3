"""Sweeps: the local and Ray engines, resuming after kill -9, planning, bad input, determinism."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from datadiet_core import ParameterError, c2, devices, dynamic, headlines, profiles, selection, store, sweep
from datadiet_core.data import load_dataset

# A small C2 grid on the digits data: 2 scoring runs, 6 scoring passes, 7 scores x 1 fraction
# x 1 seed, the two other rules for two scores and per-class selection for six: 25 tasks, each a
# second or two.
TINY = {"dataset": "digits", "train_size": None, "test_size": None, "epochs": 2, "batch_size": 100,
        "augment": False, "scoring_seeds": 2, "prune_fractions": [0.5], "eval_seeds": 1, "regime_epochs": [2],
        "predrop": None}  # the pre-drop scoring runs have their own test (test_bank)


def tiny_profile(**kw):
    return profiles.resolve_profile("smoke", **{**TINY, **kw})


def cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "datadiet_core", *args], capture_output=True, text=True, env=env)


def entries(root):
    """(kind, key) -> (created, metrics without timings, arrays) of every verified entry."""
    s = store.Store(root)
    out = {}
    for kind in ("train", "scores"):
        for rec in s.entries(kind):
            metrics = {k: v for k, v in rec.metrics.items() if "seconds" not in k and "img" not in k}
            arrays = {k: v for k, v in rec.arrays.items() if "seconds" not in k}  # timings differ, results must not
            out[(kind, rec.path.name)] = (rec.manifest["created"], metrics, arrays)
    return out


def test_stages_follow_the_dependencies():
    P = tiny_profile()
    st = sweep.stages("c2", P)
    assert [len(s) for s in st] == [2, 6, 7 + 4 + len(P.c2_per_class)]  # + per-class at 50% pruned
    assert {t.kind for t in st[0]} == {"ScoringSpec"} and {t.kind for t in st[2]} == {"PrunedSpec"}
    assert sweep.stages("claim2", P) == st and sweep.stages("02_static_pruning", P) == st  # the older names
    assert [len(s) for s in sweep.stages("setup", P)] == [2, 6]
    t3 = sweep.stages("c3", tiny_profile(c3_rates=[0.7], c3_epochs=[2]))
    assert all(t.spec.selector in selection.TABLE1_SELECTORS for t in t3[-1])  # Table 1 needs its runs first
    t1 = sweep.stages("c1", tiny_profile())
    scores = [t.spec for stage in t1[1:3] for t in stage]
    assert len(set(scores)) == len(scores)  # no scoring pass twice
    assert [t.spec.name for t in t1[-1]] == ["c1_curves", "c1_correlations"]


def test_local_sweep_resumes_and_reports(results_dir):
    P = tiny_profile()
    root = results_dir / "smoke"
    first = sweep.sweep("c2", P, root, progress=None)
    assert (first.total, first.done, first.from_store) == (25, 25, 0)
    again = sweep.sweep("c2", P, root, progress=None)
    assert again.line() == "done: 25/25 runs (25 from store)"
    # The notebook's path reads the same entries: nothing new is computed.
    n = len(entries(root))
    c2.load(P, store.Store(root))
    assert len(entries(root)) == n


def test_a_time_limited_sweep_stops_between_runs_and_goes_on_from_the_store(results_dir):
    assert sweep.fits(50, 9, 1) and not sweep.fits(50, 11, 1) and sweep.fits(1e9, 1e9, None)
    P = tiny_profile()
    root = results_dir / "smoke"
    stopped = sweep.sweep("setup", P, root, progress=None, minutes=1e-9)  # past the limit at once
    assert (stopped.done, stopped.minutes) == (0, 1e-9) and not store.Store(root).entries("train")
    assert stopped.line().startswith("done: 0/8 runs (0 from store); stopped before the 1e-09-minute limit "
                                     "with 8 left")
    full = sweep.sweep("setup", P, root, progress=None, minutes=60)
    assert (full.done, full.from_store, full.minutes) == (8, 0, None) and full.line() == "done: 8/8 runs (0 from store)"
    with pytest.raises(ParameterError, match="parameter 'minutes' must be a number > 0, with engine local"):
        sweep.sweep("setup", P, root, progress=None, minutes=0)


@pytest.mark.slow
def test_ray_engine_gives_the_local_engines_entries(results_dir):
    pytest.importorskip("ray")
    import ray

    P = tiny_profile()
    local, remote = results_dir / "local", results_dir / "ray"
    sweep.sweep("c2", P, local, threads=2, progress=None)
    try:
        report = sweep.sweep("c2", P, remote, engine="ray", threads=2, progress=None)
    finally:
        ray.shutdown()
    assert report.line() == "done: 25/25 runs (0 from store)"
    a, b = entries(local), entries(remote)
    assert a.keys() == b.keys() and len(a) == 25
    for k in a:
        assert a[k][1] == b[k][1], k  # same accuracies and counts
        assert a[k][2].keys() == b[k][2].keys()
        for name in a[k][2]:
            assert np.array_equal(a[k][2][name], b[k][2][name], equal_nan=True), (k, name)


@pytest.mark.slow
def test_kill_minus_9_then_resume(results_dir):
    root = results_dir / "smoke"
    args = ["sweep", "claim2", "--profile", "smoke", "--set", json.dumps(TINY), "--threads", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "datadiet_core", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "DATADIET_RESULTS": str(results_dir)})
    deadline = time.time() + 300
    while len(entries(root)) < 10 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    folders = [(kind, p.name) for kind in ("train", "scores") for p in (root / kind).iterdir()
               if not p.name.startswith(".tmp-")]  # a kill can leave a hidden temporary folder, never an entry
    before = entries(root)  # verifies every entry (and would drop a damaged one)
    assert sorted(before) == sorted(folders)  # every folder is a complete, verified entry
    assert 10 <= len(before) < 25  # killed mid-way
    r = cli(*args, env_extra={"DATADIET_RESULTS": str(results_dir)})
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last == f"done: 25/25 runs ({len(before)} from store)"
    after = entries(root)
    assert len(after) == 25
    for k, (created, metrics, _) in before.items():
        assert after[k][0] == created and after[k][1] == metrics  # never recomputed


def test_a_damaged_entry_is_recomputed_not_read(results_dir):
    P = tiny_profile()
    root = results_dir / "smoke"
    sweep.sweep("c2", P, root, progress=None)
    victim = sorted((root / "train").iterdir())[3]
    (victim / "arrays.npz").write_bytes((victim / "arrays.npz").read_bytes()[:100])  # truncated
    edited = sorted((root / "train").iterdir())[5]
    m = json.loads((edited / "manifest.json").read_text())
    m["metrics"]["test_acc"] = 1.0  # an edited result
    (edited / "manifest.json").write_text(json.dumps(m))
    report = sweep.sweep("c2", P, root, progress=None)
    assert report.from_store <= 23  # 25 entries, two of them damaged
    assert all(rec.metrics["test_acc"] < 1.0 for rec in store.Store(root).entries("train"))


def as_if_computed_in(root, precision):
    """Rewrite every training entry under ``root`` as a host that resolves ``auto`` to
    ``precision`` would have written it (its manifest checksum made anew, so it still verifies)."""
    for manifest in (root / "train").glob("*/manifest.json"):
        m = json.loads(manifest.read_text())
        m["metrics"]["precision"] = precision
        body = {k: v for k, v in m.items() if k != "checksums"}
        m["checksums"]["manifest"] = hashlib.sha256(store.canonical_json(body).encode()).hexdigest()
        manifest.write_text(json.dumps(m))


def test_a_store_from_another_precision_is_read_anywhere_but_never_added_to(results_dir):
    P = tiny_profile(precision="auto")
    root = results_dir / "smoke"
    sweep.sweep("setup", P, root, progress=None)
    here = devices.precision_name(devices.autocast_dtype(devices.select_device("cpu"), "auto"))
    as_if_computed_in(root, "fp32" if here == "bfloat16" else "bfloat16")  # the other kind of CPU
    n = len(entries(root))
    again = sweep.sweep("setup", P, root, progress=None)  # what a notebook does when building the book
    assert again.line() == "done: 8/8 runs (8 from store)"
    with pytest.raises(ParameterError, match=r"^parameter 'precision' \(auto\) resolves to " + here):
        sweep.sweep("setup", P.replace(scoring_seeds=3), root, progress=None)  # one run to compute
    assert len(entries(root)) == n  # refused before computing it


def test_plan_counts_runs_and_states_its_throughput():
    p = sweep.plan("c2", profiles.resolve_profile("cpu"))
    # two sets of 4 scoring runs (the second for the pre-drop checkpoint), 4 x 4 score entries
    assert p["runs"] == 2 * 4 + 4 * 4 + len(c2.grid(profiles.resolve_profile("cpu")))
    assert p["device_hours"] > 0 and p["throughput_source"].startswith("measured on ") and "throughput.json" in p["throughput_source"]
    # The paper's ResNet-18 at batch 128 was measured on a GPU only: the estimate is at that rate.
    paper = profiles.resolve_profile("paper")
    g = sweep.plan("c2", paper)
    assert "NVIDIA" in g["throughput_source"] and g["device_hours"] > 5 * p["device_hours"]
    assert g["img_per_s"] == sweep.measured_img_s()["cuda"]["resnet18@128"]
    r = cli("plan", "claim3", "--profile", "paper")
    assert r.returncode == 0 and "device-hours" in r.stdout.splitlines()[-1]
    # --headline: the cells the headline reads alone, a part of the grid
    a = profiles.resolve_profile("airbench")
    head = sweep.plan("c2", headlines.headline_profile("c2", a))
    assert 0 < head["runs"] < sweep.plan("c2", a)["runs"]
    r = cli("plan", "c3", "--profile", "airbench", "--headline", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["runs"] == sweep.plan("c3", headlines.headline_profile("c3", a))["runs"]
    # The cpu profile on a GPU; a net measured at another batch says so; one measured nowhere stops.
    assert sweep.plan("c2", profiles.resolve_profile("cpu"), "cuda")["img_per_s"] == sweep.measured_img_s()["cuda"]["fastnet@256"]
    assert sweep.throughput(profiles.resolve_profile("cpu", batch_size=128))[1].endswith(
        "at batch 256, not 128 (benchmarks/throughput.json)")
    with pytest.raises(ParameterError, match="parameter 'profile' has model 'resnet34' with no throughput measured on cpu or cuda"):
        sweep.plan("c2", paper.replace(model="resnet34"))
    with pytest.raises(ParameterError, match="parameter 'device' must be cpu or cuda; got 'tpu'"):
        sweep.throughput(paper, "tpu")


def test_throughput_reads_model_at_batch_keys_only():
    # A file in the old layout (model alone) is not read as a measurement at some batch size.
    cpu = profiles.resolve_profile("cpu")
    assert sweep.throughput(cpu, measured={"cpu": {"fastnet": 3000.0, "fastnet@512": 2500.0}})[0] == 2500.0
    with pytest.raises(ParameterError, match="no throughput measured on cpu or cuda; measure it there with"):
        sweep.throughput(cpu, measured={"cpu": {"fastnet": 3000.0}})


# --------------------------------------------------------------------------- bad input

def _sweep_cli(*extra):
    return ["sweep", "c2", "--profile", "smoke", *extra]


CLI_CASES = [
    (["sweep", "claim4"], "parameter 'claim' must be one of setup, c1, c2, c3 (or claim1, claim2, claim3)"),
    (_sweep_cli("--engine", "spark"), "parameter 'engine' must be one of local, ray"),
    (_sweep_cli("--set", '{"prune_fractions": [0.5, 1.5]}'), "parameter 'prune_fractions' must be"),
    (_sweep_cli("--set", '{"prune_fractions": [0]}'), "parameter 'prune_fractions' must be"),
    (_sweep_cli("--set", '{"eval_seeds": 0}'), "parameter 'eval_seeds' must be an integer >= 1"),
    (_sweep_cli("--set", '{"scoring_seeds": -1}'), "parameter 'scoring_seeds' must be an integer >= 1"),
    (_sweep_cli("--set", "not json"), "parameter 'set' must be a JSON object"),
    (_sweep_cli("--retries", "-1"), "parameter 'retries' must be an integer >= 0"),
    (_sweep_cli("--threads", "0"), "parameter 'threads' must be an integer >= 1"),
    (_sweep_cli("--address", "10.0.0.1:6379"), "parameter 'address' must only be given with engine ray"),
    (_sweep_cli("--minutes", "-5"), "parameter 'minutes' must be a number > 0, with engine local"),
    (_sweep_cli("--set", '{"compile": "fast"}'), "parameter 'compile' must be one of off, default"),
    (["bench", "--profile", "smoke", "--compile", "off", "turbo"], "parameter 'compile' must be one of off"),
    (["plan", "claim9"], "parameter 'claim' must be one of"),
    (["plan", "claim2", "--profile", "huge"], "parameter 'profile' must be one of smoke, cpu, gpu, airbench, paper"),
    (["train", "--profile", "smoke", "--set", '{"model": "vgg16"}'], "parameter 'model' must be one of"),
    (["train", "--profile", "smoke", "--set", '{"epochs": 0}'], "parameter 'epochs' must be an integer >= 1"),
    (["train", "--profile", "smoke", "--set", '{"lr": "fast"}'], "parameter 'lr' must be a number"),
    (["train", "--profile", "smoke", "--set", '{"c3_epochs": [4, 4]}'], "parameter 'c3_epochs' must be"),
]


@pytest.mark.parametrize("args,message", CLI_CASES)
def test_bad_cli_input_stops_with_one_line_and_leaves_the_store_alone(args, message, results_dir):
    r = cli(*args, env_extra={"DATADIET_RESULTS": str(results_dir)})
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith("error: " + message), r.stderr
    assert r.stderr.count("\n") == 1
    assert not results_dir.exists() or not any(results_dir.rglob("manifest.json"))


NAMESPACE_CASES = [  # what papermill injects into a notebook, read by profiles.from_namespace
    ({"profile": "cpu", "epochs": "8"}, "parameter 'epochs' must be an integer >= 1"),
    ({"profile": "cpu", "c3_rates": [0.0, 0.5]}, "parameter 'c3_rates' must be"),
    ({"profile": "cpu", "regime_epochs": [-4]}, "parameter 'regime_epochs' must be"),
    ({"profile": "cpu", "device": "tpu"}, "parameter 'device' must be one of"),
    ({"profile": "cpu", "c3_periods": [0, 4]}, "parameter 'c3_periods' must be a list of distinct integers >= 1 (empty: none)"),
    ({"profile": "laptop"}, "parameter 'profile' must be one of"),
    ({"profile": "cpu", "dataset": "imagenet"}, "parameter 'dataset' must be one of"),
]


@pytest.mark.parametrize("namespace,message", NAMESPACE_CASES)
def test_bad_papermill_parameters_stop_before_anything_runs(namespace, message):
    with pytest.raises(ParameterError) as e:
        profiles.from_namespace(namespace)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def _api_cases():
    P = tiny_profile()
    return [
        (lambda: c2.pruned_subset("grand", {}, 10, 0.5, 0), "parameter 'score' must be one of"),
        (lambda: c2.pruned_subset("random", {}, 10, 1.0, 0), "parameter 'prune' must be a fraction"),
        (lambda: c2.pruned_subset("input_norm", {"input_norm": np.ones(10)}, 10, 0.5, 0, "median"),
         "parameter 'rule' must be one of"),
        (lambda: dynamic.dynamic_run(P, store.Store.for_profile("smoke"), "bandit", 0.5, 0),
         "parameter 'selector' must be one of"),
        (lambda: dynamic.dynamic_run(P, store.Store.for_profile("smoke"), "ucb", 0.0, 0),
         "parameter 'prune' must be a fraction in (0, 1)"),
        (lambda: sweep.sweep("c2", P, "/nonexistent", engine="mpi", progress=None),
         "parameter 'engine' must be one of"),
        (lambda: selection.epsilon_greedy(np.ones(10), 5, 2.0, np.random.default_rng(0)),
         "parameter 'epsilon' must be a fraction"),
        (lambda: load_dataset("imagenet"), "parameter 'dataset' must be one of"),
        (lambda: P.replace(prune_fractions="0.5"), "parameter 'prune_fractions' must be"),
        (lambda: dynamic.dynamic_run(P, store.Store.for_profile("smoke"), "ucb", 0.7, 0, period=1.5),
         "parameter 'period' must be None or an integer >= 1"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_bad_python_api_input_is_one_line_before_any_computation(case, results_dir):
    fn, message = _api_cases()[case]
    with pytest.raises(ParameterError) as e:
        fn()
    assert str(e.value).startswith(message) and "\n" not in str(e.value)
    assert not results_dir.exists() or not any(results_dir.rglob("manifest.json"))


def test_there_are_at_least_twenty_bad_input_cases():
    assert len(CLI_CASES) + len(NAMESPACE_CASES) + len(_api_cases()) >= 20


# --------------------------------------------------------------------------- determinism

@pytest.mark.slow
def test_same_configuration_and_seed_are_bit_identical_on_cpu(results_dir):
    P = tiny_profile(dataset="cifar10", train_size=2000, test_size=1000, augment=True, batch_size=128)
    a, b = results_dir / "a", results_dir / "b"
    sweep.sweep("c2", P, a, progress=None)
    sweep.sweep("c2", P, b, progress=None)
    ea, eb = entries(a), entries(b)
    assert ea.keys() == eb.keys() and len(ea) == 25
    for k in ea:
        assert ea[k][1] == eb[k][1], k
        for name in ea[k][2]:
            assert np.array_equal(ea[k][2][name], eb[k][2][name], equal_nan=True), (k, name)
