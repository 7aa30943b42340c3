
import numpy as np
import pytest
import torch

from datadiet_core import ParameterError, data, devices, engine, profiles, recipe, train
from datadiet_core.models import build_model


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("digits")


def digits_profile(**kw):
    base = dict(dataset="digits", model="fastnet", epochs=4, batch_size=100, lr=0.05, augment=False,
                train_size=None, test_size=None, precision="fp32", device="cpu")
    return profiles.resolve_profile("smoke", **{**base, **kw})


@pytest.fixture(scope="module")
def dd(digits):
    return train.prepare(digits, digits_profile())


def test_lr_schedule_divides_by_five_at_30_60_80_percent():
    P = profiles.resolve_profile("paper")
    # The paper's epochs 0, 59, 60, 119, 120, 160, 199 of 200.
    got = [recipe.lr_at(e / 200, P) for e in (0, 59, 60, 119, 120, 160, 199)]
    assert got == pytest.approx([0.1, 0.1, 0.02, 0.02, 0.004, 0.0008, 0.0008])


def test_lr_warmup_is_linear():
    P = profiles.resolve_profile("cpu", warmup=0.1)
    assert recipe.lr_at(0.05, P) == pytest.approx(P.lr / 2)
    assert recipe.lr_at(0.1, P) == pytest.approx(P.lr)


def test_iterations_budget_keeps_steps_whatever_the_subset(dd):
    P = digits_profile(epochs=2)
    full = train.train(P, dd, seed=0, progress=False)
    half = train.train(P, dd, seed=0, subset=np.arange(0, 1500, 2), progress=False)
    assert full.steps == half.steps == 2 * (1500 // 100)
    assert half.images_seen == full.images_seen


def test_epochs_budget_scales_steps_with_the_subset(dd):
    P = digits_profile(epochs=3)
    res = train.train(P, dd, seed=0, subset=np.arange(500), budget="epochs", progress=False)
    assert res.steps == 3 * 5 and res.images_seen == 1500


def test_hooks_see_every_sample_loss_and_can_swap_the_subset(dd):
    P = digits_profile(epochs=3)
    subsets = {0: np.arange(0, 300), 1: np.arange(300, 600), 2: np.arange(600, 900)}
    seen: dict[int, set] = {0: set(), 1: set(), 2: set()}
    loss_sum = {0: 0.0, 1: 0.0, 2: 0.0}

    def on_batch(info: train.BatchInfo) -> None:
        assert info.loss.shape == info.indices.shape == info.correct.shape
        assert info.loss.dtype == torch.float32 and torch.isfinite(info.loss).all()
        seen[info.epoch].update(info.indices.tolist())
        loss_sum[info.epoch] += float(info.loss.sum())

    res = train.train(P, dd, seed=0, budget="epochs", progress=False,
                      hooks=train.Hooks(on_batch=on_batch, select=lambda epoch, model: subsets[epoch]))
    for e in range(3):
        assert seen[e] == set(subsets[e].tolist())  # every sample of the epoch's subset, nothing else
        assert res.history[e]["train_loss"] == pytest.approx(loss_sum[e] / 300, rel=1e-5)


def test_checkpoints_at_init_and_end(dd):
    P = digits_profile(epochs=2)
    res = train.train(P, dd, seed=5, checkpoints=(0.0, 0.5, 1.0), progress=False)
    torch.manual_seed(5)
    fresh = build_model("fastnet", 10, 1, 8).state_dict()
    for k, v in fresh.items():
        assert torch.equal(res.checkpoints[0.0][k], v)
    final = res.model.state_dict()
    for k, v in final.items():
        assert torch.equal(res.checkpoints[1.0][k], v.cpu())
    w = "1.weight"  # a BN weight: moves during training
    assert not torch.equal(res.checkpoints[0.5][w], res.checkpoints[0.0][w])
    assert not torch.equal(res.checkpoints[0.5][w], res.checkpoints[1.0][w])


def test_same_seed_is_bit_identical_on_cpu(dd):
    P = digits_profile(epochs=2, precision="auto")
    a = train.train(P, dd, seed=3, progress=False)
    b = train.train(P, dd, seed=3, progress=False)
    c = train.train(P, dd, seed=4, progress=False)
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    assert a.test_acc == b.test_acc and a.history == [{**h, "seconds": a.history[i]["seconds"]}
                                                      for i, h in enumerate(b.history)]
    assert not torch.equal(a.model.state_dict()["0.weight"], c.model.state_dict()["0.weight"])


@pytest.mark.parametrize("model,floor", [("fastnet", 0.9), ("linear", 0.85)])
def test_training_actually_learns_digits(dd, model, floor):
    P = digits_profile(model=model, epochs=8)
    res = train.train(P, dd, seed=0, progress=False)
    assert res.test_acc > floor, res.history
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def test_bad_budget_and_checkpoints(dd):
    P = digits_profile()
    with pytest.raises(ParameterError, match="parameter 'budget'"):
        train.train(P, dd, seed=0, budget="steps")
    with pytest.raises(ParameterError, match="parameter 'checkpoints'"):
        train.train(P, dd, seed=0, checkpoints=(0.0, 1.5))


def test_auto_precision_is_bf16_only_on_a_cpu_that_runs_it_natively(dd):
    cpu = torch.device("cpu")
    native = devices.cpu_has_native_bf16()
    assert devices.autocast_dtype(cpu, "auto") is (torch.bfloat16 if native else None)
    assert devices.autocast_dtype(cpu, "bf16") is torch.bfloat16  # asked for by name: always honoured
    assert devices.autocast_dtype(cpu, "fp32") is None
    assert [devices.precision_name(d) for d in (None, torch.bfloat16, torch.float16)] == ["fp32", "bfloat16", "float16"]
    # What a run resolved to is kept with it.
    res = train.train(digits_profile(epochs=1, precision="auto"), dd, seed=0, progress=False, checkpoints=())
    assert res.precision == ("bfloat16" if native else "fp32")
    assert train.record_of(res, cpu, dd.n_train)[0]["precision"] == res.precision


# --------------------------------------------------------------------------- the compiled engine

def _grads(model, forward, xb, yb):
    model.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(forward(xb), yb).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.slow  # torch.compile builds C++ kernels: about 20 s the first time on 2 cores
def test_compiled_step_matches_the_eager_step_and_compiles_once(dd):
    from torch._dynamo.utils import counters
    P = digits_profile(epochs=2, augment=True, compile="default")
    fresh = channels_last_model(dd, seed=5)
    model, forward = engine.compiled(fresh, tuple(dd.x_train.shape[1:]), dd.device, P.compile, P.batch_size,
                                     P.augment, None, lambda r, g: train.batch_of(dd, r, P.augment, g, True))
    assert model is not fresh and all(torch.equal(a, b) for a, b in
                                      zip(model.state_dict().values(), fresh.state_dict().values()))
    xb, yb = train.batch_of(dd, torch.arange(P.batch_size), True, torch.Generator().manual_seed(1), True)
    model.train(), fresh.train()
    eager, comp = _grads(fresh, fresh, xb, yb), _grads(model, forward, xb, yb)
    for n in eager:  # the same gradient, up to float32 reordering
        torch.testing.assert_close(comp[n], eager[n], rtol=1e-4, atol=1e-5, msg=n)

    graphs = counters["stats"]["unique_graphs"]
    a = train.train(P, dd, seed=3, progress=False)
    b = train.train(P, dd, seed=4, progress=False)
    assert counters["stats"]["unique_graphs"] == graphs  # warmed up by `compiled`, reused by both runs
    assert a.model is not b.model  # each run returns its own model, not the shared resident
    assert not torch.equal(a.model.state_dict()["0.weight"], b.model.state_dict()["0.weight"])
    learnt = train.train(P.replace(epochs=8, augment=False), dd, seed=0, progress=False)
    assert learnt.test_acc > 0.9, learnt.history  # as the eager loop in test_training_actually_learns_digits


def channels_last_model(dd, seed):
    from datadiet_core.models import channels_last
    return channels_last(train.init_model("fastnet", dd, seed))


# --------------------------------------------------------------------------- the airbench-class recipe

def recipe_profile(**kw):
    """The airbench profile on 1,024 training images of CIFAR-10 (tiny, real), fp32 for exactness."""
    base = dict(train_size=1024, test_size=256, epochs=3, batch_size=256, precision="fp32", device="cpu")
    return profiles.resolve_profile("airbench", **{**base, **kw})


@pytest.fixture(scope="module")
def tiny(cifar10):
    return train.prepare(cifar10, recipe_profile())


def test_triangle_schedule_rises_to_its_peak_then_falls():
    P = profiles.resolve_profile("airbench")
    assert recipe.lr_at(0.0, P) == pytest.approx(0.2 * P.lr)
    assert recipe.lr_at(P.lr_peak, P) == pytest.approx(P.lr)
    assert recipe.lr_at(1.0, P) == pytest.approx(0.07 * P.lr)
    assert recipe.lr_at(P.lr_peak / 2, P) == pytest.approx(0.6 * P.lr)  # linear on the way up


def test_decoupled_optimiser_groups_follow_jordan_2024(tiny):
    P = recipe_profile(batch_size=1024, epochs=12)
    model = train.init_model(P.model, tiny, 0)
    opt = recipe.optimiser(model, P)
    base, biases, stem = opt.param_groups
    lr = P.lr * 1024 / (1024 * (1 + 1 / (1 - P.momentum)))  # 1.5: 11.5 per 1,024 examples, decoupled
    assert base["lr_scale"] * P.lr == pytest.approx(lr) and biases["lr_scale"] == pytest.approx(64 * base["lr_scale"])
    decay_per_step = P.weight_decay * 1024 / (1024 * (1 + 1 / (1 - P.momentum)))
    for g in (base, biases, stem):  # the same absolute decay in every group
        assert g["lr_scale"] * P.lr * g["weight_decay"] == pytest.approx(decay_per_step)
    frozen = {id(p) for p in model.parameters() if not p.requires_grad}
    assert len(frozen) == 1 + 6  # the whitening weight and the six BatchNorm scales
    assert not frozen & {id(p) for g in opt.param_groups for p in g["params"]}
    recipe.set_lr(opt, 0.2, P)
    assert stem["lr"] > 0  # epoch 2.4 of 12: the stem's bias still trains (3 epochs)
    recipe.set_lr(opt, 0.3, P)
    assert stem["lr"] == 0.0 and base["lr"] > 0


def test_recipe_runs_through_train_with_hooks_checkpoints_and_tta(tiny):
    from datadiet_core.scores import Forgetting

    P = recipe_profile()
    tracker = Forgetting(tiny.n_train)
    res = train.train(P, tiny, seed=7, checkpoints=(0.0, P.early, 1.0), hooks=train.Hooks(on_batch=tracker.on_batch),
                      progress=False)
    fresh = train.init_model(P.model, tiny, 7).state_dict()  # "at init": after the whitening fit, no step
    assert all(torch.equal(res.checkpoints[0.0][k], v) for k, v in fresh.items())
    assert fresh["0.weight"].abs().sum() > 0  # the whitening stem was fitted
    end = res.model.state_dict()  # the end checkpoint holds the evaluated (lookahead) weights
    assert all(torch.equal(res.checkpoints[1.0][k], v) for k, v in end.items())
    acc, _ = train.evaluate(res.model, tiny.x_test, tiny.y_test, tta=True)
    assert res.test_acc == acc and res.extra["test_acc_plain"] == res.history[-1]["test_acc"]
    assert torch.equal(res.checkpoints[1.0]["0.weight"], fresh["0.weight"])  # never trained
    assert not torch.equal(res.checkpoints[1.0]["0.bias"], fresh["0.bias"])  # trained early
    assert np.isfinite(tracker.scores()).any() and res.steps == 3 * (1024 // 256)
    assert 0.2 < res.test_acc  # above chance (10%) after 12 steps on 1,024 images


def test_alternating_flip_flips_every_image_on_every_other_pass(tiny):
    P = recipe_profile()
    gen = torch.Generator().manual_seed(0)
    batch = train.augmenter(P, tiny, gen, conv=False)
    idx = torch.arange(8)
    gen.manual_seed(1)
    a = batch(idx, 0)[0]
    gen.manual_seed(1)  # the same translations, the next pass
    b = batch(idx, 1)[0]
    assert torch.allclose(a, b.flip(3))


def test_label_smoothing_changes_the_training_loss_only(tiny):
    P = recipe_profile(epochs=1)
    plain = train.train(P.replace(label_smoothing=0.0), tiny, seed=1, progress=False, checkpoints=())
    smooth = train.train(P, tiny, seed=1, progress=False, checkpoints=())
    assert plain.history[0]["train_loss"] != smooth.history[0]["train_loss"]
