import subprocess
import sys

import numpy as np
import pytest
import torch

from datadiet_core import profiles, runs, store, train
from datadiet_core.models import build_model


def cli(*args, env_extra=None, check=False):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "datadiet_core", *args], capture_output=True, text=True,
                          env=env, check=check)


def test_data_verify_cifar10_prints_hashes_and_succeeds(cifar10):
    r = cli("data", "verify", "cifar10")
    assert r.returncode == 0, r.stderr
    assert "x_train 47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a OK" in r.stdout
    assert "x_test f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04 OK" in r.stdout


@pytest.mark.parametrize("args,message", [
    (["train", "--profile", "tpu"], "error: parameter 'profile' must be one of smoke, cpu, gpu, airbench, paper; got 'tpu'"),
    (["train", "--profile", "smoke", "--set", '{"epochs": -1}'], "error: parameter 'epochs' must be an integer >= 1; got -1"),
    (["train", "--profile", "smoke", "--set", '{"dataset": "mnist"}'], "error: parameter 'dataset' must be one of"),
    (["train", "--profile", "smoke", "--set", "[1]"], "error: parameter 'set' must be a JSON object"),
    (["train", "--profile", "smoke", "--seed", "-2"], "error: parameter 'seed' must be an integer >= 0"),
    (["data", "verify", "mnist"], "error: parameter 'dataset' must be one of"),
    (["book", "--profile", "fast"], "error: parameter 'profile' must be one of"),
    (["book", "--profile", "smoke", "--only", "nope"], "error: parameter 'only' must name notebooks"),
    (["sweep", "c1", "--profile", "smoke", "--headline"], "error: parameter 'headline' applies to claims c2 and c3; got 'c1'"),
])
def test_bad_input_stops_with_one_line_and_leaves_the_store_alone(args, message, results_dir):
    r = cli(*args)
    assert r.returncode == 2
    assert r.stderr.startswith(message), r.stderr
    assert r.stderr.count("\n") == 1  # exactly one line
    assert not results_dir.exists() or not any(results_dir.rglob("manifest.json"))


def test_absent_dataset_without_a_route_is_one_clear_line(tmp_path, results_dir):
    r = cli("train", "--profile", "smoke", "--set", '{"dataset": "cifar100"}',
            env_extra={"DATADIET_DATA": str(tmp_path)})
    assert r.returncode == 2
    assert r.stderr.startswith("error: CIFAR-100 needs") and "train.bin" in r.stderr
    assert r.stderr.count("\n") == 1


def test_stored_run_is_reused_and_checkpoints_load_back(results_dir):
    P = profiles.resolve_profile("smoke", dataset="digits", train_size=None, test_size=None, epochs=2,
                                 batch_size=100, augment=False)
    s = store.Store.for_profile("smoke")
    first = runs.run(P, 0, s, checkpoints=(0.0, 1.0))
    second = runs.run(P, 0, s, checkpoints=(0.0, 1.0))
    assert second.path == first.path and second.manifest["created"] == first.manifest["created"]
    assert first.metrics["steps"] == 2 * 15 and 0.0 < first.metrics["test_acc"] <= 1.0
    h = runs.history_frame(second)
    assert list(h["epoch"]) == [1.0, 2.0] and h["test_acc"].iloc[-1] == pytest.approx(first.metrics["test_acc"])
    # The initial checkpoint is the seed's fresh model, read back from plain arrays.
    torch.manual_seed(0)
    fresh = build_model("fastnet", 10, 1, 8)
    loaded = train.load_state(build_model("fastnet", 10, 1, 8), runs.checkpoint_state(second, 0.0))
    for k, v in fresh.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    # A different subset is a different entry.
    sub = runs.run(P, 0, s, subset=np.arange(0, 1500, 2), subset_tag="even")
    assert sub.path != first.path and sub.metrics["n_train"] == 750
