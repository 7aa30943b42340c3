"""Images as training tensors (module tensors): normalisation against the float64 reference and
the published CIFAR-10 statistics, and both recipes' augmentations as windows of the padded image."""
import numpy as np
import pytest
import torch

from datadiet_core import ParameterError, tensors


def test_cifar10_channel_statistics_match_published(cifar10):
    mean, std = tensors.channel_stats(cifar10.x_train)
    np.testing.assert_allclose(mean, [0.49139968, 0.48215841, 0.44653091], atol=1e-7)
    np.testing.assert_allclose(std, [0.24703223, 0.24348513, 0.26158784], atol=1e-7)


def test_channel_statistics_match_the_float64_reference():
    x = np.random.default_rng(0).integers(0, 256, size=(300, 5, 7, 3), dtype=np.uint8)
    x[..., 2] //= 4  # channels with different statistics
    mean, std = tensors.channel_stats(x)
    flat = x.reshape(-1, 3).astype(np.float64) / 255.0
    np.testing.assert_allclose(mean, flat.mean(0), rtol=1e-13)
    np.testing.assert_allclose(std, flat.std(0), rtol=1e-13)
    with pytest.raises(ParameterError, match="parameter 'x_train' must be uint8"):
        tensors.channel_stats(flat.reshape(x.shape))


def test_normalised_tensor_has_zero_mean_unit_std(cifar10):
    x = cifar10.x_train[:5000]
    mean, std = tensors.channel_stats(x)
    t = tensors.to_tensor(x, mean, std)
    assert t.shape == (5000, 3, 32, 32) and t.dtype == torch.float32
    np.testing.assert_allclose(t.mean((0, 2, 3)).numpy(), 0, atol=1e-4)
    np.testing.assert_allclose(t.std((0, 2, 3)).numpy(), 1, atol=1e-3)


def test_augment_is_a_crop_of_the_padded_image_or_its_mirror():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, 32, 32)
    fill = torch.tensor([-1.0, -2.0, -3.0])
    out = tensors.augment(x, g, pad=4, flip=True, fill=fill)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    for c in range(3):
        border = torch.ones(40, 40, dtype=torch.bool)
        border[4:36, 4:36] = False
        padded[:, c][:, border] = fill[c]
    flips = 0
    for i in range(64):
        found = None
        for dy in range(9):
            for dx in range(9):
                win = padded[i, :, dy:dy + 32, dx:dx + 32]
                if torch.equal(out[i], win):
                    found = "plain"
                elif torch.equal(out[i], win.flip(2)):
                    found = "flip"
        assert found is not None, f"image {i} is not a crop of its padded input"
        flips += found == "flip"
    assert 16 <= flips <= 48  # p = 0.5


def test_augment_offsets_cover_the_whole_range():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(4000, 1, 8, 8)
    x[:, :, 0, 0] = 1.0  # a marker at the top-left pixel
    out = tensors.augment(x, g, pad=4, flip=False)
    pos = out[:, 0].flatten(1).argmax(1)
    seen = out[:, 0].flatten(1).max(1).values > 0
    rows, cols = pos[seen] // 8, pos[seen] % 8
    # The marker lands at (4 - dy, 4 - dx) when visible; dy, dx uniform on 0..8.
    assert set(rows.tolist()) == set(range(5)) and set(cols.tolist()) == set(range(5))
    assert abs(seen.float().mean().item() - (5 / 9) ** 2) < 0.03


def test_translate_altflip_is_a_window_of_the_reflected_image_flipped_exactly_where_asked():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 3, 32, 32)
    flip = torch.arange(48) % 3 == 0
    out = tensors.translate_altflip(x, g, flip, pad=2)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="reflect")
    offsets = set()
    for i in range(48):
        img = out[i].flip(2) if flip[i] else out[i]  # undo the flip where it was asked for
        hits = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(img, padded[i, :, dy:dy + 32, dx:dx + 32])]
        assert hits, f"image {i} is not a window of its reflect-padded input"
        offsets.update(hits)
    assert len(offsets) >= 15  # the offsets spread over the 5 x 5 range
