"""The benchmark (module bench): what it records for ``plan``, and the per-step profile."""
import json

from datadiet_core import bench, profiles, sweep


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
    # the scoring pass's and GraNd's rates beside it, which plan prices those passes at
    bench.save({**result, "scoring_pass_img_s": 250000.0, "grand_img_s": 9000.04}, path)
    saved = json.loads(path.read_text())
    assert saved["cuda"]["resnet18@512/forward"] == 250000.0 and saved["cuda"]["resnet18@512/grand"] == 9000.0
    P = profiles.resolve_profile("gpu")
    r, source = sweep.rates(P, "cuda", saved)
    assert r == {"train": 37012.3, "forward": 250000.0, "grand": 9000.0} and "not measured" not in source
    r, source = sweep.rates(P.replace(batch_size=128), "cuda", {"cuda": {"resnet18@128": 11200.0}})
    assert r["forward"] == r["grand"] == 11200.0 and "forward and grand passes at the training rate" in source


def test_step_profile_counts_what_a_training_step_costs_besides_arithmetic():
    got = bench.step_profile("smoke", steps=2)
    assert set(got) == {"ops_per_step", "launches_per_step", "syncs_per_step", "copies_per_step"}
    assert got["ops_per_step"] > 50  # forward, backward and the optimiser of a conv net
    assert got["launches_per_step"] == got["syncs_per_step"] == got["copies_per_step"] == 0  # no GPU here
