"""Moving data out to a host without internet and results back: parts, checks, round trips."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from datadiet_core import DataError, ParameterError, bank, data, profiles, store, sweep, transfer
from small import digits_profile


def test_parts_round_trip_and_every_check(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    payload = np.random.default_rng(0).integers(0, 256, 5 * (1 << 19), dtype=np.uint8).tobytes()  # 2.5 MiB
    (src / "big.bin").write_bytes(payload)
    (src / "sub").mkdir()
    (src / "sub" / "small.txt").write_text("hello")
    index = transfer.export_parts(transfer.tree(src), tmp_path / "out", "thing", part_mb=1)
    meta = json.loads(index.read_text())
    assert [p["bytes"] <= 1 << 20 for p in meta["parts"]] == [True] * 3 and meta["files"] == ["big.bin", "sub/small.txt"]
    written = transfer.import_parts(index, tmp_path / "in")
    assert sorted(p.relative_to(tmp_path / "in").as_posix() for p in written) == ["big.bin", "sub/small.txt"]
    assert (tmp_path / "in" / "big.bin").read_bytes() == payload
    # A damaged part, a missing part: one line naming it, nothing unpacked.
    part = tmp_path / "out" / "thing.part001"
    good = part.read_bytes()
    part.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(DataError, match="part thing.part001 of thing is damaged"):
        transfer.import_parts(index, tmp_path / "in2")
    part.unlink()
    with pytest.raises(DataError, match="part thing.part001 of thing is missing"):
        transfer.import_parts(index, tmp_path / "in2")
    assert not any((tmp_path / "in2").rglob("*.bin"))
    with pytest.raises(ParameterError, match="parameter 'part_mb' must be a number of MiB >= 1"):
        transfer.export_parts({}, tmp_path / "out", "x", part_mb=0.5)


def test_an_archive_with_an_unsafe_member_is_refused(tmp_path):
    evil = tmp_path / "evil.txt"
    evil.write_text("x")
    with tarfile.open(tmp_path / "a.tar", "w") as tar:
        tar.add(evil, arcname="../escaped.txt")
    blob = (tmp_path / "a.tar").read_bytes()
    (tmp_path / "bad.part000").write_bytes(blob)
    digest = hashlib.sha256(blob).hexdigest()
    (tmp_path / "bad.parts.json").write_text(json.dumps(
        {"name": "bad", "sha256": digest, "files": [], "parts": [{"file": "bad.part000", "bytes": len(blob), "sha256": digest}]}))
    with pytest.raises(DataError, match="unsafe member '../escaped.txt'"):
        transfer.import_parts(tmp_path / "bad.parts.json", tmp_path / "in")
    assert not (tmp_path / "escaped.txt").exists()


def test_cifar10_goes_out_in_parts_and_comes_back_verified(cifar10, tmp_path, monkeypatch):
    index = data.export_dataset("cifar10", tmp_path / "out", part_mb=64)
    assert len(json.loads(index.read_text())["parts"]) == 3
    monkeypatch.setenv("DATADIET_DATA", str(tmp_path / "cache"))
    ds = data.import_dataset(index)
    assert ds.x_train.shape == (50000, 32, 32, 3) and (tmp_path / "cache" / "cifar10.npz").exists()
    # Parts that pass their own checks but hold other pixels: the published digests refuse them.
    arrays = dict(np.load(tmp_path / "cache" / "cifar10.npz"))
    arrays["x_test"] = arrays["x_test"].copy()
    arrays["x_test"][0, 0, 0, 0] ^= 1
    np.savez(tmp_path / "cifar10.npz", **arrays)
    bad = transfer.export_parts({"cifar10.npz": tmp_path / "cifar10.npz"}, tmp_path / "bad", "cifar10", 64)
    monkeypatch.setenv("DATADIET_DATA", str(tmp_path / "cache2"))
    with pytest.raises(DataError, match="fails verification"):
        data.import_dataset(bad)
    with pytest.raises(ParameterError, match="parameter 'name' must be a dataset kept as one cache file"):
        data.export_dataset("digits", tmp_path / "out", 30)


def test_results_go_back_compacted_and_are_verified_on_import(results_dir, tmp_path):
    P = digits_profile()
    here = store.Store(results_dir / "gpu-host")
    sweep.sweep("setup", P, here.root, progress=None)
    size = sum(f.stat().st_size for f in here.root.rglob("*") if f.is_file())
    index = bank.export_results(here, tmp_path / "parts", part_mb=1)
    parts = json.loads(index.read_text())["parts"]
    assert sum(p["bytes"] for p in parts) < size / 2  # checkpoints left out, arrays compressed
    assert all(not r.dropped for r in here.entries("train"))  # the exported store is untouched
    there = store.Store(results_dir / "laptop")
    assert bank.import_results(index, there) == {"added": 8, "present": 0}
    assert bank.import_results(index, there) == {"added": 0, "present": 8}
    got, want = bank.score_bank(P, there), bank.score_bank(P, here)
    assert all(np.array_equal(got[k], want[k]) for k in want)
    assert {tuple(r.dropped) for r in there.entries("train")} == {("ckpt/",)}
    # An entry damaged before packing is caught on import, and nothing is moved.
    copy = tmp_path / "copy"
    shutil.copytree(there.root, copy)
    victim = next(copy.glob("scores/*/arrays.npz"))
    victim.write_bytes(victim.read_bytes()[:200])
    bad = transfer.export_parts(transfer.tree(copy), tmp_path / "bad", "results-x", 1)
    with pytest.raises(DataError, match="1 of 8 entries in .* fail verification; nothing was imported"):
        bank.import_results(bad, store.Store(results_dir / "other"))
    assert not (results_dir / "other").exists() or not any((results_dir / "other").rglob("manifest.json"))


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"altair", "vl_convert", "papermill", "jupytext", "nbformat", "myst_nb",
                                  "jupyter_book", "ray", "IPython"}:
            raise ImportError(f"{name} is not installed on this host")
sys.meta_path.insert(0, Block())
from datadiet_core.cli import main
code = main(sys.argv[1:])
assert not {"altair", "papermill", "ray"} & set(sys.modules), sorted(sys.modules)
sys.exit(code)
"""


def test_the_sweep_path_runs_without_the_book_packages(results_dir):
    """A GPU host may have torch, numpy, scipy, pandas, scikit-learn, tqdm and pyyaml only."""
    tiny = {"dataset": "digits", "train_size": None, "test_size": None, "epochs": 1, "batch_size": 100,
            "augment": False, "scoring_seeds": 1, "prune_fractions": [0.5], "eval_seeds": 1, "regime_epochs": [1]}
    env = {**os.environ, "DATADIET_RESULTS": str(results_dir)}
    total = sum(len(s) for s in sweep.stages("c2", profiles.resolve_profile("smoke", **tiny)))
    outputs = []
    for args in (["sweep", "c2", "--profile", "smoke", "--set", json.dumps(tiny), "--quiet"],
                 ["plan", "c3", "--profile", "paper"], ["store", "compact", "--profile", "smoke"],
                 ["stretch", "--profile", "smoke", "--set", json.dumps(tiny), "--out", str(results_dir / "out"),
                  "--minutes", "5", "--bench", "none", "--claims", "setup"]):
        r = subprocess.run([sys.executable, "-c", BLOCKER, *args], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr[-2000:]
        outputs.append(r.stdout)
    assert outputs[0].splitlines()[-1] == f"done: {total}/{total} runs (0 from store)"
    assert "device-hours" in outputs[1] and f"{total} entries rewritten" in outputs[2]
    assert outputs[3].splitlines()[-1].startswith(f"wrote {results_dir / 'out'}: carry it back")  # a stretch, on such a host
    assert (results_dir / "out" / "results" / "results-smoke.parts.json").is_file()
