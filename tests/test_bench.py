"""The benchmark (module bench): what it records for ``plan``, and the per-step profile."""
import json

from datadiet_core import bench


def test_bench_save_records_model_at_batch_and_the_machine(tmp_path):
    path = tmp_path / "throughput.json"
    path.write_text(json.dumps({"cpu": {"fastnet@256": 3000.0}}))
    result = {"device": "cuda:0", "model": "resnet18", "batch_size": 512, "train_img_s": 37012.34, "gpu": "NVIDIA H200",
              "cpu": "Intel Xeon", "threads": 16, "precision": "bfloat16"}
    bench.save(result, path)
    saved = json.loads(path.read_text())
    assert saved["cpu"] == {"fastnet@256": 3000.0} and saved["cuda"] == {"resnet18@512": 37012.3}
    assert saved["hosts"]["cuda"].startswith("NVIDIA H200 (16 threads, bfloat16), bench --save of ")
    bench.save({**result, "compile": "reduce-overhead", "train_img_s": 61000.0}, path)  # the engine is named
    saved = json.loads(path.read_text())
    assert saved["cuda"]["resnet18@512"] == 61000.0
    assert saved["hosts"]["cuda"].startswith("NVIDIA H200 (16 threads, bfloat16, compile reduce-overhead), bench")


def test_step_profile_counts_what_a_training_step_costs_besides_arithmetic():
    got = bench.step_profile("smoke", steps=2)
    assert set(got) == {"ops_per_step", "launches_per_step", "syncs_per_step", "copies_per_step"}
    assert got["ops_per_step"] > 50  # forward, backward and the optimiser of a conv net
    assert got["launches_per_step"] == got["syncs_per_step"] == got["copies_per_step"] == 0  # no GPU here
