import pytest
import torch

from datadiet_core import ParameterError
from datadiet_core.models import build_model


@pytest.mark.parametrize("name", ["fastnet", "fastnet_wide", "resnet18", "resnet34", "linear"])
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
