"""Every score against a plain float64 reference, and the identities the book relies on."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from datadiet_core import ParameterError, data, profiles, scores, train
from datadiet_core.models import build_model


def _randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters, as after training."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) * 0.4 - 0.2)
    return model


class BiasNet(nn.Sequential):
    """Conv and Linear layers with biases, an in-place ReLU right after a conv, and a residual-free head."""

    def __init__(self):
        super().__init__(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 16, 3, stride=2, padding=1),
                         nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(64, 10))


MODELS = {
    "fastnet": lambda: build_model("fastnet", 10),
    "resnet18": lambda: build_model("resnet18", 10),
    "linear": lambda: build_model("linear", 10),
    "biasnet": BiasNet,
    # a frozen whitening stem with a trained bias, BatchNorm with no trained scale, GELU, logits x 1/9
    "airbench": lambda: build_model("airbench", 10),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_grand_equals_the_per_example_loop_in_float64(name):
    torch.manual_seed(0)
    model = _randomise_bn(MODELS[name]()).eval().double()
    n = 3 if name == "resnet18" else 9
    x = torch.randn(n, 3, 32, 32, dtype=torch.float64)
    y = torch.randint(0, 10, (n,))
    fast = scores.grand(model, x, y, chunk=4)  # several chunks
    ref = scores.grand_loop(model, x, y)
    np.testing.assert_allclose(fast.numpy(), ref.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["fastnet", "resnet18", "biasnet"])
def test_the_unfold_route_gives_the_same_norms_as_the_loop_in_float64(name):
    torch.manual_seed(2)
    model = _randomise_bn(MODELS[name](), seed=2).eval().double()
    n = 3 if name == "resnet18" else 7
    x = torch.randn(n, 3, 32, 32, dtype=torch.float64)
    y = torch.randint(0, 10, (n,))
    ref = scores.grand_loop(model, x, y)
    np.testing.assert_allclose(scores.grand(model, x, y, chunk=4, large="unfold").numpy(), ref.numpy(), rtol=1e-10)
    with pytest.raises(ParameterError, match="parameter 'large' must be one of grouped, unfold; got 'im2col'"):
        scores.grand(model, x, y, large="im2col")


@pytest.mark.parametrize("name", ["fastnet", "resnet18", "linear", "airbench"])
def test_grand_in_float32_is_within_1e4_of_the_float64_loop(name):
    torch.manual_seed(1)
    model = _randomise_bn(MODELS[name](), seed=1).eval()
    n = 3 if name == "resnet18" else 16
    x = torch.randn(n, 3, 32, 32)
    y = torch.randint(0, 10, (n,))
    if name != "linear":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    fast = scores.grand(model, x, y).double()
    ref = scores.grand_loop(model.double(), x.double(), y)
    assert ((fast - ref).abs() / ref).max() < 1e-4


def test_both_convolution_routes_are_exercised_by_the_fast_net():
    """The fast net has layers on each side of the ghost / per-example-gradient switch, so the
    float64 comparison above covers both."""
    m = build_model("fastnet", 10).eval()
    routes = []

    def hook(conv, inp, out):
        routes.append(scores.conv_route(conv.in_channels, conv.out_channels, conv.kernel_size,
                                        out.shape[2] * out.shape[3]))

    for c in m.modules():
        if isinstance(c, nn.Conv2d):
            c.register_forward_hook(hook)
    m(torch.randn(1, 3, 32, 32))
    assert len(routes) == 7 and set(routes) == {"ghost", "grouped"}


def test_linear_softmax_grand_is_error_norm_times_input_norm():
    """Kirsch 2023 §2.1: for f(x) = Wx, grad_W = (p - y) x^T, so GraNd = ||p - y|| ||x||."""
    torch.manual_seed(2)
    model = build_model("linear", 10, in_channels=3).eval().double()
    x = torch.randn(50, 3, 32, 32, dtype=torch.float64)
    y = torch.randint(0, 10, (50,))
    p = F.softmax(model(x), 1)
    expected = (p - F.one_hot(y, 10)).norm(dim=1) * x.flatten(1).norm(dim=1)
    np.testing.assert_allclose(scores.grand(model, x, y).numpy(), expected.detach().numpy(), rtol=1e-12)


def test_el2n_is_the_unsquared_error_norm():
    torch.manual_seed(3)
    model = _randomise_bn(build_model("fastnet", 10)).eval().double()
    x = torch.randn(20, 3, 32, 32, dtype=torch.float64)
    y = torch.randint(0, 10, (20,))
    with torch.no_grad():
        logits = model(x).numpy()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(10)[y.numpy()]
    np.testing.assert_allclose(scores.el2n(model, x, y).numpy(), np.sqrt(((p - onehot) ** 2).sum(1)), rtol=1e-12)
    np.testing.assert_allclose(scores.el2n_uniform(model, x).numpy(), np.sqrt(((p - 0.1) ** 2).sum(1)), rtol=1e-12)


def test_input_norm():
    x = torch.randn(7, 3, 4, 4, dtype=torch.float64)
    np.testing.assert_allclose(scores.input_norm(x).numpy(), np.linalg.norm(x.numpy().reshape(7, -1), axis=1))


def test_label_independent_gradient_scores_match_the_loop():
    torch.manual_seed(4)
    model = _randomise_bn(build_model("fastnet", 10)).eval().double()
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    y = torch.zeros(4, dtype=torch.long)
    ref_sum = scores.grand_loop(model, x, y, objective=lambda z, _y: z.sum(1))
    np.testing.assert_allclose(scores.grand_logit_sum(model, x).numpy(), ref_sum.numpy(), rtol=1e-10)
    ref_sq = sum(scores.grand_loop(model, x, y, objective=lambda z, _y, k=k: z[:, k]) ** 2 for k in range(10))
    np.testing.assert_allclose(scores.grand_logit_sq(model, x).numpy(), ref_sq.numpy(), rtol=1e-10)


def test_scores_need_eval_mode():
    model = build_model("fastnet", 10).train()
    x, y = torch.randn(2, 3, 32, 32), torch.zeros(2, dtype=torch.long)
    for fn in (scores.grand, scores.el2n):
        with pytest.raises(ParameterError, match="eval mode"):
            fn(model, x, y)


def test_forgetting_counts_correct_to_incorrect_transitions():
    f = scores.Forgetting(4)
    # example 0: learned, forgotten twice; 1: learned once and kept; 2: never learned; 3: never seen
    f.update(np.array([0, 1, 2]), np.array([True, False, False]))
    f.update(np.array([0, 1, 2]), np.array([False, True, False]))
    f.update(np.array([0, 2]), np.array([True, False]))
    f.update(np.array([0]), np.array([False]))
    s = f.scores()
    assert s[0] == 2 and s[1] == 0 and np.isinf(s[2]) and np.isinf(s[3])
    assert np.argsort(-s, kind="stable")[:2].tolist() == [2, 3]  # never learned rank highest
    # The same counts from the tensors a training hook passes (what runs on the device).
    g = scores.Forgetting(4, "cpu")
    for idx, ok in (([0, 1, 2], [1, 0, 0]), ([0, 1, 2], [0, 1, 0]), ([0, 2], [1, 0]), ([0], [0])):
        g.update(torch.tensor(idx), torch.tensor(ok, dtype=torch.bool))
    np.testing.assert_array_equal(g.scores(), s)


def test_forgetting_from_real_training_hooks():
    ds = data.load_dataset("digits")
    P = profiles.resolve_profile("smoke", dataset="digits", train_size=None, test_size=None, epochs=4,
                                 batch_size=100, augment=False, precision="fp32")
    dd = train.prepare(ds, P)
    f = scores.Forgetting(dd.n_train)
    train.train(P, dd, seed=0, hooks=train.Hooks(on_batch=f.on_batch), progress=False)
    s = f.scores()
    assert f.ever_correct.float().mean() > 0.8  # most digits get learned in 4 epochs
    assert np.isfinite(s).sum() == int(f.ever_correct.sum()) and s[np.isfinite(s)].max() >= 1


def test_averaging_keeps_the_per_model_arrays():
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    np.testing.assert_allclose(scores.average(a), [2, 2, 2])
    np.testing.assert_allclose(scores.running_means(a), [[1, 2, 3], [2, 2, 2]])
    with pytest.raises(ParameterError, match="parameter 'per_model'"):
        scores.average(np.ones(3))


@pytest.mark.slow
def test_resnet18_grand_on_256_images_stays_within_a_few_gb():
    code = ("import resource, torch; from datadiet_core import scores; from datadiet_core.models import build_model;"
            "torch.set_num_threads(2); torch.manual_seed(0); m = build_model('resnet18', 10).eval();"
            "g = scores.grand(m, torch.randn(256, 3, 32, 32), torch.randint(0, 10, (256,)));"
            "assert g.shape == (256,) and torch.isfinite(g).all();"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak_gb = int(r.stdout.strip().splitlines()[-1]) / 1e6
    assert peak_gb < 4.5, f"peak memory {peak_gb:.1f} GB"
