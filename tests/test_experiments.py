import numpy as np
import pytest

from datadiet_core import experiments, profiles, scores, store, train


def digits_profile(**kw):
    base = dict(dataset="digits", train_size=None, test_size=None, epochs=2, batch_size=100, augment=False,
                scoring_seeds=2, inits=3, c1_images=None, c1_resnet_images=8)
    return profiles.resolve_profile("smoke", **{**base, **kw})


def test_init_scores_come_from_the_training_runs_own_initialisation(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    rec = experiments.model_scores(P, s, seed=1, when=0.0, split="train")
    # The scoring run's stored init checkpoint gives the same GraNd.
    run = experiments.scoring_runs(P, s)[1]
    data = train.device_data(P)
    model = train.load_state(train.init_model(P.model, data, 1), train.checkpoint_state(run, 0.0)).eval()
    ref = scores.grand(model, data.x_train, data.y_train).numpy()
    np.testing.assert_allclose(rec.arrays["grand"], ref, rtol=1e-5)
    assert rec.arrays["grand"].dtype == np.float32 and rec.arrays["el2n"].shape == (1500,)
    # Trained checkpoints are read from the run; the end differs from the start.
    end = experiments.model_scores(P, s, seed=1, when=1.0, split="test")
    start = experiments.model_scores(P, s, seed=1, when=0.0, split="test")
    assert not np.allclose(end.arrays["el2n"], start.arrays["el2n"])
    # A second call reads the store.
    again = experiments.model_scores(P, s, seed=1, when=0.0, split="train")
    assert again.manifest["created"] == rec.manifest["created"]


def test_per_seed_keeps_one_row_per_model(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    g = experiments.per_seed(P, s, range(3), 0.0, "test", "grand")
    assert g.shape == (3, 297) and not np.allclose(g[0], g[1])


def test_rho_vs_k_grows_as_noise_is_averaged_away():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=2000)
    per_model = signal + rng.normal(scale=2.0, size=(8, 2000))
    df = experiments.rho_vs_k(per_model, signal, n_boot=50)
    assert list(df.K) == list(range(1, 9))
    assert df.rho.iloc[-1] > df.rho.iloc[0] + 0.2
    assert (df.lo <= df.rho).all() and (df.rho <= df.hi).all()


def test_lognormal_fit_recovers_its_parameters():
    rng = np.random.default_rng(1)
    fit = experiments.lognormal_fit(np.exp(rng.normal(0.7, 0.3, size=20000)))
    assert fit["mu"] == pytest.approx(0.7, abs=0.01) and fit["sigma"] == pytest.approx(0.3, abs=0.01)
    assert fit["ks"] < 0.02


def test_extremes_per_class():
    score = np.array([5.0, 1.0, 3.0, 9.0, 0.5, 2.0])
    y = np.array([0, 0, 1, 1, 0, 1])
    lo, hi = experiments.extremes_per_class(score, y, 2)
    assert lo.tolist() == [4, 5] and hi.tolist() == [0, 3]


def test_linear_identity_gap_is_at_machine_precision(results_dir):
    assert experiments.linear_identity_gap(digits_profile(), images=200) < 1e-12


def test_c1_verdict_text_follows_the_numbers():
    summary = {"verdict": {"holds_for_linear": True, "holds_for_fastnet": False, "holds_for_resnet18": True,
                           "holds_on_fashion_mnist_for_fastnet": False, "fades_with_training": True},
               "strong_threshold": 0.8, "model": "fastnet", "k_inits": 10, "k_trained": 4,
               "spearman_by_model": {"linear": 0.99, "fastnet": 0.41, "resnet18": 0.95},
               "spearman_by_model_ci": {"linear": [0.98, 0.995], "fastnet": [0.40, 0.42], "resnet18": [0.94, 0.96]},
               "images_by_model": {"linear": 10000, "fastnet": 50000, "resnet18": 1000},
               "spearman_fashion_mnist": {"fastnet": 0.45}, "spearman_end": -0.06}
    text = experiments.c1_verdict_text(summary)
    assert "fastnet (50,000 training images): ρ = 0.410 [0.400, 0.420], does not hold" in text
    assert "resnet18 (1,000 training images): ρ = 0.950 [0.940, 0.960], holds" in text
    assert "holds for linear, resnet18 but not for fastnet" in text
    assert "fastnet ρ = 0.450, does not hold" in text and "falls with training" in text


def test_static_pruning_runs_keep_the_right_subset_for_a_fixed_number_of_steps(results_dir):
    P = digits_profile()
    s = store.Store.for_profile("smoke")
    sc = experiments.c2_scores(P, s)
    assert set(sc) | {"random"} == set(experiments.C2_SCORES)
    assert all(v.shape == (1500,) for v in sc.values())
    # The restore-bug variant is GraNd at the end of training, not at initialisation.
    assert not np.allclose(sc["grand_init_restore_bug"], sc["grand_init"])
    keep = experiments.pruned_subset("el2n_early", sc, 1500, 0.7, seed=0)
    assert len(keep) == 450 and sc["el2n_early"][keep].min() >= np.sort(sc["el2n_early"])[-450]
    rec = experiments.pruned_run(P, s, "el2n_early", sc, 0.7, eval_index=0)
    full = experiments.scoring_runs(P, s)[0]
    assert rec.metrics["steps"] == full.metrics["steps"] and rec.metrics["n_train"] == 450
    assert rec.config["seed"] == experiments.EVAL_SEED_OFFSET
    r1 = experiments.pruned_subset("random", sc, 1500, 0.5, seed=1)
    assert len(r1) == 750 and not np.array_equal(r1, experiments.pruned_subset("random", sc, 1500, 0.5, seed=2))
    with pytest.raises(Exception, match="parameter 'prune'"):
        experiments.pruned_subset("random", sc, 1500, 1.0, seed=0)
    with pytest.raises(Exception, match="parameter 'score'"):
        experiments.pruned_subset("loss", sc, 1500, 0.5, seed=0)
