import numpy as np
import pytest
import torch

from datadiet_core import ParameterError
from datadiet_core.models import build_model, fit_whitening, whitening_layer


@pytest.mark.parametrize("name", ["fastnet", "fastnet_wide", "airbench", "airbench_wide", "resnet18", "resnet34", "linear"])
def test_models_map_images_to_logits(name):
    torch.manual_seed(0)
    m = build_model(name, num_classes=7, in_channels=3, image_size=32).eval()
    with torch.no_grad():
        out = m(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 7)


def test_resnet_has_the_cifar_stem():
    m = build_model("resnet18", 10)
    assert m.conv1.kernel_size == (3, 3) and m.conv1.stride == (1, 1)
    assert isinstance(m.maxpool, torch.nn.Identity)
    assert sum(p.numel() for p in m.parameters()) == 11_173_962  # the usual CIFAR ResNet-18


def test_linear_model_has_no_bias():
    m = build_model("linear", 10, in_channels=1, image_size=8)
    assert [n for n, _ in m.named_parameters()] == ["fc.weight"]


def test_fastnet_runs_on_small_grey_images():
    m = build_model("fastnet", 10, in_channels=1).eval()
    with torch.no_grad():
        assert m(torch.randn(3, 1, 8, 8)).shape == (3, 10)


def test_unknown_model():
    with pytest.raises(ParameterError, match="parameter 'model' must be one of"):
        build_model("vgg13", 10)


def test_airbench_stem_whitens_2x2_patches_and_is_frozen():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 32, 32) * torch.tensor([1.0, 2.0, 0.5]).view(1, 3, 1, 1)  # unequal channel scales
    x[:, 1] += 0.7 * x[:, 0]  # and correlated channels
    m = build_model("airbench", 10)
    stem = whitening_layer(m)
    fit_whitening(stem, x, eps=0.0)
    out = torch.nn.functional.conv2d(x, stem.weight[:12])  # the + half, without bias
    z = out.permute(0, 2, 3, 1).reshape(-1, 12).double()
    np.testing.assert_allclose((z.T @ z / len(z)).numpy(), np.eye(12), atol=1e-4)  # whitened
    assert torch.equal(stem.weight[12:], -stem.weight[:12]) and not stem.weight.requires_grad and stem.bias.requires_grad
    again = build_model("airbench", 10)
    fit_whitening(whitening_layer(again), x, eps=0.0)
    assert torch.equal(whitening_layer(again).weight, stem.weight)  # no random numbers drawn


def test_airbench_convs_start_as_identity_and_bn_trains_only_its_bias():
    m = build_model("airbench", 10)
    conv = m[2][4]  # the second conv of the first group: 64 -> 64, all filters dirac
    x = torch.randn(2, 64, 5, 5)
    assert torch.allclose(conv(x), x)
    bns = [b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    assert len(bns) == 6 and all(not b.weight.requires_grad and b.bias.requires_grad for b in bns)
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, 10)
