"""The shared runs: scoring runs, score entries and the score bank (module bank)."""
import shutil

import numpy as np
import pytest

from datadiet_core import MissingResults, bank, report, runs, scores, selection, store, sweep, train
from small import digits_profile


def test_init_scores_come_from_the_training_runs_own_initialisation(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    rec = bank.model_scores(P, s, seed=1, when=0.0, split="train")
    # The scoring run's stored init checkpoint gives the same GraNd.
    with pytest.raises(MissingResults, match="python -m datadiet_core sweep setup --profile smoke --set"):
        bank.scoring_runs(P, s)  # loaders never train
    sweep.sweep("setup", P, s.root, progress=None)
    run = bank.scoring_runs(P, s)[1]
    data = train.device_data(P)
    model = train.load_state(train.init_model(P.model, data, 1), runs.checkpoint_state(run, 0.0)).eval()
    ref = scores.grand(model, data.x_train, data.y_train).numpy()
    np.testing.assert_allclose(rec.arrays["grand"], ref, rtol=1e-5)
    assert rec.arrays["grand"].dtype == np.float32 and rec.arrays["el2n"].shape == (1500,)
    # Trained checkpoints are read from the run; the end differs from the start.
    end = bank.model_scores(P, s, seed=1, when=1.0, split="test")
    start = bank.model_scores(P, s, seed=1, when=0.0, split="test")
    assert not np.allclose(end.arrays["el2n"], start.arrays["el2n"])
    # A second call reads the store.
    again = bank.model_scores(P, s, seed=1, when=0.0, split="train")
    assert again.manifest["created"] == rec.manifest["created"]


def test_per_seed_keeps_one_row_per_model(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    for seed in range(3):
        bank.run_spec(P, s, bank.ScoreSpec("digits", P.model, seed, 0.0, "test"))
    g = bank.per_seed(P, s, range(3), 0.0, "test", "grand")
    assert g.shape == (3, 297) and not np.allclose(g[0], g[1])


def test_score_bank_reads_every_static_score_and_its_stages_compute_them(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    stages = bank.stages(P)
    assert [len(x) for x in stages] == [2, 6]
    assert {t.when for t in stages[1]} == {0.0, P.early, 1.0} and {t.split for t in stages[1]} == {"train"}
    with pytest.raises(MissingResults):
        bank.score_bank(P, s)
    report = sweep.sweep("setup", P, s.root, progress=None)
    assert report.line() == "done: 8/8 runs (0 from store)"
    sc = bank.score_bank(P, s)
    assert set(sc) | {"random"} == set(selection.STATIC_SCORES)
    assert all(v.shape == (1500,) for v in sc.values())
    # The restore-bug variant is GraNd at the end of training, not at initialisation.
    assert not np.allclose(sc["grand_init_restore_bug"], sc["grand_init"])
    np.testing.assert_allclose(sc["grand_init"], bank.per_seed(P, s, range(2), 0.0, "train", "grand").mean(0))
    forgetting = np.mean([r.arrays["forgetting"] for r in bank.scoring_runs(P, s)], axis=0)
    np.testing.assert_array_equal(sc["forgetting"], forgetting)
    np.testing.assert_allclose(sc["input_norm"], np.linalg.norm(train.device_data(P).x_train.flatten(1).numpy(), axis=1),
                               rtol=1e-5)
    assert bank.scoring_pass_seconds(P, s, (0.0,)) > 0


def test_predrop_scores_come_from_a_second_set_of_scoring_runs_on_the_same_trajectory(results_dir):
    P = digits_profile(epochs=4, predrop=0.25)  # the checkpoint at the end of epoch 1, before the drop at 1.2
    s = store.Store.for_profile("smoke")
    stages = bank.stages(P)
    assert [len(x) for x in stages] == [4, 8] and {t.when for t in stages[0]} == {None, 0.25}
    assert {t.when for t in stages[1]} == {0.0, P.early, 1.0, 0.25}
    sweep.sweep("setup", P, s.root, progress=None)
    Q = bank.checkpoint_profile(P, 0.25)
    assert (Q.early, Q.predrop) == (0.25, None) and bank.checkpoint_profile(P, P.early) == P
    main, second = bank.scoring_runs(P, s), [bank.scoring_run(Q, seed, s.reader()) for seed in range(2)]
    assert len(main) == 2  # the baseline is the main set only
    # Checkpointing elsewhere does not change the training: the same seed ends at the same weights.
    for a, b in zip(main, second):
        assert a.config["checkpoints"] != b.config["checkpoints"]
        assert a.metrics["test_acc"] == b.metrics["test_acc"]
        np.testing.assert_array_equal(a.arrays["forgetting"], b.arrays["forgetting"])
    sc = bank.score_bank(P, s)
    assert set(selection.PREDROP_SCORES) <= set(sc)
    np.testing.assert_allclose(sc["el2n_predrop"], bank.per_seed(P, s, range(2), 0.25, "train", "el2n").mean(0))
    assert not np.allclose(sc["el2n_predrop"], sc["el2n_early"])
    early = bank.early_checkpoint(P, s)
    hist = runs.history_frame(second[0])
    assert early["predrop_epoch"] == 1.0 and early["test_acc_predrop"] == pytest.approx(
        np.mean([runs.history_frame(r).test_acc.iloc[0] for r in second]))
    assert hist.test_acc.iloc[0] > 0.3  # well past chance (10 classes)
    assert bank.early_checkpoint(P.replace(predrop=None), s)["test_acc_predrop"] is None
    # Compacting drops the main runs' checkpoints (every trained one scored); the pre-drop runs'
    # only with the profile, which says the bank reads nothing of them but their 25% scores.
    assert bank.compact(s)["checkpoints_dropped"] == 2
    assert bank.compact(s, P)["checkpoints_dropped"] == 2
    assert all(runs.CHECKPOINTS in bank.scoring_run(Q, seed, s.reader()).dropped for seed in range(2))
    after = bank.score_bank(P, s)
    assert all(np.array_equal(sc[k], after[k]) for k in sc)


def test_compact_keeps_every_number_drops_checkpoints_and_recomputes_them_when_asked(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    sweep.sweep("setup", P, s.root, progress=None)
    before = bank.score_bank(P, s)
    test_end = bank.model_scores(P, s, 0, 1.0, "test").arrays["grand"]  # a score the compaction does not keep
    shutil.rmtree(bank.model_scores(P, s, 0, 1.0, "test").path)
    size = sum(f.stat().st_size for f in s.root.rglob("arrays.npz"))
    done = bank.compact(s)
    assert done == {"rewritten": 2 + 6, "checkpoints_dropped": 2}
    assert sum(f.stat().st_size for f in s.root.rglob("arrays.npz")) < size / 2
    after = bank.score_bank(P, s)
    assert after.keys() == before.keys() and all(np.array_equal(after[k], before[k]) for k in before)
    run0 = bank.scoring_runs(P, s)[0]
    assert run0.dropped == ["ckpt/"] and not any(k.startswith("ckpt/") for k in run0.arrays)
    with pytest.raises(MissingResults, match="dropped when its store was compacted"):
        runs.checkpoint_state(run0, 1.0)
    assert sweep.sweep("setup", P, s.root, progress=None).from_store == 8  # nothing recomputed
    # A score of a dropped checkpoint recomputes the run (deterministic on the CPU): same numbers.
    np.testing.assert_array_equal(bank.model_scores(P, s, 0, 1.0, "test").arrays["grand"], test_end)
    assert bank.scoring_runs(P, s)[0].dropped == []


def test_setup_variants_are_compared_with_the_recipe_seed_by_seed(results_dir):
    # "epochs=2" is the profile's own value: its runs are the recipe's training on the same seeds,
    # so pairing by seed must give a difference of exactly 0; label smoothing changes the runs.
    P = digits_profile(setup_variants=("label_smoothing=0.2", "epochs=2"))
    s = store.Store.for_profile("smoke")
    sweep.sweep("setup", P, s.root, progress=None)
    out = bank.variants_summary(P, s)
    recipe = [r.metrics["test_acc"] for r in bank.scoring_runs(P, s)]
    same = out["epochs=2"]["same_seeds"]
    assert same["seeds"] == [0, 1] and same["recipe"] == recipe[:2] and same["variant"] == recipe[:2]
    assert report.seed_diffs(same) == [0.0, 0.0]
    smoothed = out["label_smoothing=0.2"]["same_seeds"]
    assert smoothed["recipe"] == recipe[:2] and smoothed["variant"] != recipe[:2]
    assert report.seed_diffs(smoothed) == pytest.approx([a - b for a, b in zip(smoothed["variant"], recipe[:2])])
    assert out["epochs=2"]["seeds"] == 2 and out["epochs=2"]["test_acc_mean"] == pytest.approx(np.mean(recipe[:2]))
