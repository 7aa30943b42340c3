"""Claim C1 (module c1): GraNd at initialisation against the input norm."""
import numpy as np
import pytest
from scipy import stats as st

from datadiet_core import MissingResults, bank, c1, report_c1, store, sweep
from small import digits_profile


def test_rho_vs_k_grows_as_noise_is_averaged_away():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=2000)
    per_model = signal + rng.normal(scale=2.0, size=(8, 2000))
    df = c1.rho_vs_k(per_model, signal, n_boot=50)
    assert list(df.K) == list(range(1, 9))
    assert df.rho.iloc[-1] > df.rho.iloc[0] + 0.2
    assert (df.lo <= df.rho).all() and (df.rho <= df.hi).all()


def test_lognormal_fit_recovers_its_parameters():
    rng = np.random.default_rng(1)
    fit = c1.lognormal_fit(np.exp(rng.normal(0.7, 0.3, size=20000)))
    assert fit["mu"] == pytest.approx(0.7, abs=0.01) and fit["sigma"] == pytest.approx(0.3, abs=0.01)
    assert fit["ks"] < 0.02


def test_extremes_per_class():
    score = np.array([5.0, 1.0, 3.0, 9.0, 0.5, 2.0])
    y = np.array([0, 0, 1, 1, 0, 1])
    lo, hi = c1.extremes_per_class(score, y, 2)
    assert lo.tolist() == [4, 5] and hi.tolist() == [0, 3]


def test_linear_identity_gap_is_at_machine_precision(results_dir):
    assert c1.linear_identity_gap(digits_profile(), images=200) < 1e-12


def test_c1_verdict_text_follows_the_numbers():
    summary = {"verdict": {"holds_for_linear": True, "holds_for_fastnet": False, "holds_for_resnet18": True,
                           "fades_with_training": True},
               "strong_threshold": 0.8, "model": "fastnet", "k_inits": 10, "k_trained": 4,
               "spearman_by_model": {"linear": 0.99, "fastnet": 0.41, "resnet18": 0.95},
               "spearman_by_model_ci": {"linear": [0.98, 0.995], "fastnet": [0.40, 0.42], "resnet18": [0.94, 0.96]},
               "images_by_model": {"linear": 10000, "fastnet": 50000, "resnet18": 1000},
               "spearman_fashion_mnist": {"fastnet": 0.45}, "spearman_fashion_mnist_ci": {"fastnet": [0.44, 0.46]},
               "verdict_fashion_mnist": {"fastnet": "fails"}, "spearman_end": -0.06, "spearman_end_ci": [-0.07, -0.05],
               "score_pairs": {"grand_init_vs_input_norm": [0.33, 0.32, 0.34, 0.963]},
               "headline": {"verdict": "holds", "effect": 0.95, "ci": [0.94, 0.96], "regime": "resnet18 at init",
                            "effect_name": "GraNd@init against the input norm (Spearman's ρ)",
                            "effects": {"linear": {"verdict": "holds"}, "fastnet": {"verdict": "fails"},
                                        "resnet18": {"verdict": "holds"}}}}
    text = report_c1.c1_verdict_text(summary)
    assert text.startswith("Headline: claim C1 holds at resnet18 at init; GraNd@init against the input norm: "
                           "ρ = 0.950 [0.940, 0.960].")
    assert "and fails where it lies below. On CIFAR-10 it holds for linear softmax and ResNet-18 and fails for fastnet:" in text
    # Fashion-MNIST is read by the same three-valued rule, with its interval beside it.
    assert "On Fashion-MNIST, by the same rule: fastnet, ρ = 0.450 [0.440, 0.460], it fails." in text
    assert ("falls with training, from ρ = 0.330 [0.320, 0.340] at initialisation to -0.060 [-0.070, -0.050] at "
            "the end (both with the 4 scoring runs' networks averaged)") in text
    # Every ρ the chapter states has its interval; an older summary without one gives the ρ alone.
    assert report_c1.rho_text(summary, "spearman_end") == "-0.060 [-0.070, -0.050]"
    assert report_c1.rho_text({"spearman_early": 0.02}, "spearman_early") == "0.020"
    assert len(text.split()) <= 130  # the per-architecture numbers are in the table above it
    # A net whose interval straddles the threshold is inconclusive, as the table beside the text says.
    summary["headline"]["effects"]["fastnet"]["verdict"] = "inconclusive"
    assert "is inconclusive for fastnet" in report_c1.c1_verdict_text(summary)
    # Fashion-MNIST's reading is the verdict the summary stores, whatever it is.
    summary["verdict_fashion_mnist"]["fastnet"] = "inconclusive"
    assert "fastnet, ρ = 0.450 [0.440, 0.460], it is inconclusive." in report_c1.c1_verdict_text(summary)


def test_c1_grid_curves_and_correlations_through_the_store(results_dir):
    """The chapter's whole path on small data: sweep, then the stored curves and correlations
    equal scipy's Spearman rho of the stored scores, and the loader never computes."""
    P = digits_profile(c1_images=200, inits=2)
    s = store.Store.for_profile("smoke")
    with pytest.raises(MissingResults, match=r"^2 of 2 runs of c1 are not in the store \(first: analysis c1_curves\); "
                                             r"compute them with: python -m datadiet_core sweep c1 --profile smoke"):
        sweep.sweep("setup", P, s.root, progress=None) and c1.load(P, s)
    done = sweep.sweep("c1", P, s.root, progress=None)
    assert done.done == done.total and done.from_store == 8  # the bank's entries came from "setup"
    tables = c1.load(P, s)
    curves, corr = tables["curves"], tables["correlations"]
    assert {(r.dataset, r.model) for r in curves.itertuples()} == {
        ("digits", "linear"), ("digits", P.model), ("digits", "resnet18"),
        ("fashion_mnist", "linear"), ("fashion_mnist", P.model)}
    # One setting by hand: rho of the mean of the first k inits' GraNd with ||x||, k = 1, 2.
    g = bank.per_seed(P, s, range(2), 0.0, "train", "grand", "linear", 200)
    norms = bank.input_norms(P, "train", 200)
    lin = curves[(curves.dataset == "digits") & (curves.model == "linear") & (curves.split == "train")]
    assert lin.K.tolist() == [1, 2] and (lin.n == 200).all()
    for k, row in zip((1, 2), lin.itertuples()):
        assert row.rho == pytest.approx(st.spearmanr(g[:k].mean(0), norms).statistic, abs=1e-12)
        assert row.lo <= row.rho <= row.hi
    assert set(curves.checkpoint) == {"init", "10% of training", "end"}
    # Kirsch's score pairs, on the score bank.
    sc = bank.score_bank(P, s)
    assert len(corr) == len(c1.KIRSCH_SPEARMAN)
    for row in corr.itertuples():
        assert row[3] == pytest.approx(st.spearmanr(sc[row[1]], sc[row[2]]).statistic, abs=1e-12)
    assert corr["rho (Kirsch 2023)"].tolist() == list(c1.KIRSCH_SPEARMAN.values())
    # The summary reads the curves at all K and applies the verdict rule to their interval.
    ratio = c1.ratio(P, s)
    summary = c1.summary(P, curves, ratio["fit"])
    norms = bank.input_norms(P, "train")
    assert ratio["log_norm_sd"] == pytest.approx(np.log(norms).std()) and len(ratio["log_ratio"]) == len(norms)
    text = report_c1.c1_ratio_text(ratio["fit"], ratio["log_norm_sd"])
    assert f"σ = {ratio['fit']['sigma']:.3f}" in text and f"spread of log ‖x‖ itself, {np.log(norms).std():.3f} here" in text
    last = lin.iloc[-1]
    assert summary["spearman_by_model"]["linear"] == last.rho
    assert summary["verdict"]["holds_for_linear"] == (last.lo >= c1.STRONG)
    fm = curves[(curves.dataset == "fashion_mnist") & (curves.split == "train") & (curves.checkpoint == "init")]
    for m, g in fm.groupby("model"):
        top = g[g.K == g.K.max()].iloc[0]  # all initialisations averaged, with its interval and the rule's reading
        assert summary["spearman_fashion_mnist_ci"][m] == [top.lo, top.hi]
        assert summary["verdict_fashion_mnist"][m] == c1.rho_verdict(top)
    assert summary["images_by_model"] == {"linear": 200, P.model: 1500, "resnet18": 8}
    # The headline: ResNet-18's rho, read against the threshold by the rule of c1.headline.
    h = summary["headline"]
    res = curves[(curves.dataset == "digits") & (curves.model == "resnet18") & (curves.split == "train")
                 & (curves.checkpoint == "init")].iloc[-1]
    assert h["effect"] == res.rho and h["ci"] == [res.lo, res.hi] and h["published"] == 0.963
    assert h["verdict"] == ("holds" if res.lo >= c1.STRONG else "fails" if res.hi < c1.STRONG else "inconclusive")
    assert "ResNet-18 at initialisation" in h["regime"] and set(h["effects"]) == {"linear", P.model, "resnet18"}
    # A second sweep computes nothing, and the tables are read back unchanged.
    assert sweep.sweep("c1", P, s.root, progress=None).from_store == done.total
    assert c1.load(P, s)["curves"].equals(curves)


def test_correlations_are_spearman_with_a_bootstrap_interval():
    rng = np.random.default_rng(3)
    base = rng.normal(size=500)
    sc = {"grand_init": base, "input_norm": base + rng.normal(scale=0.3, size=500),
          "grand_early": rng.normal(size=500), "forgetting": rng.integers(0, 4, 500).astype(float),
          "el2n_early": base ** 2}
    corr = c1.correlations(sc, n_boot=100).set_index(["score a", "score b"])
    rho = corr.loc[("grand_init", "input_norm")]
    assert rho["rho (ours)"] == pytest.approx(st.spearmanr(sc["grand_init"], sc["input_norm"]).statistic, abs=1e-12)
    assert rho.lo < rho["rho (ours)"] < rho.hi and rho.hi - rho.lo < 0.1
    assert rho["95% interval"] == f"[{rho.lo:.3f}, {rho.hi:.3f}]"
