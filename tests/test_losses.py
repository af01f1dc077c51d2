"""Gram matrices in every memory format and precision the losses meet: same value, same gradient."""

from __future__ import annotations

import pytest
import torch

from stylecam.perceptual.losses import gram_matrix


def _features(seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randn(2, 16, 12, 20).relu()


def _gram_and_grad(features: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = features.detach().requires_grad_(True)
    g = gram_matrix(x)
    (g * weights).sum().backward()
    assert x.grad is not None
    return g.detach(), x.grad.float()


def test_a_channels_last_gram_equals_the_plain_one_with_its_gradient_in_the_same_memory_format() -> None:
    f = _features(0)
    w = torch.randn(16, 16)
    g_plain, d_plain = _gram_and_grad(f, w)
    g_cl, d_cl = _gram_and_grad(f.contiguous(memory_format=torch.channels_last), w)
    assert g_plain.shape == (2, 16, 16) and g_plain.dtype == torch.float32
    assert torch.allclose(g_cl, g_plain, rtol=1e-5, atol=1e-7)
    assert torch.allclose(d_cl, d_plain, rtol=1e-4, atol=1e-7)
    # the gradient comes back channels-last, so adding it to a conv's gradient is not a strided copy
    x = f.contiguous(memory_format=torch.channels_last).requires_grad_(True)
    gram_matrix(x).sum().backward()
    assert x.grad is not None and x.grad.is_contiguous(memory_format=torch.channels_last)


def test_a_bf16_gram_is_float32_within_bf16_rounding_and_its_gradient_is_close() -> None:
    f32 = _features(1).bfloat16().float()  # values a bf16 network gives
    w = torch.randn(16, 16)
    g_ref, d_ref = _gram_and_grad(f32, w)
    for layout in (torch.contiguous_format, torch.channels_last):
        g, d = _gram_and_grad(f32.bfloat16().contiguous(memory_format=layout), w)
        assert g.dtype == torch.float32
        err = ((g - g_ref).norm() / g_ref.norm()).item()
        assert 0 < err < 4e-3  # rounded to bf16 once (2^-8 at most per entry), not the float32 product
        assert ((d - d_ref).norm() / d_ref.norm()).item() < 1e-2  # the gradient in bf16


def test_the_content_loss_of_channels_last_features_equals_the_plain_one_with_the_same_gradient() -> None:
    from stylecam.perceptual.losses import ContentLoss

    torch.manual_seed(3)
    f, target = torch.randn(2, 8, 6, 10), torch.randn(2, 8, 6, 10)
    results = []
    for layout in (torch.contiguous_format, torch.channels_last):
        loss = ContentLoss("relu2_2", weight=2.0)
        loss.set_target({"relu2_2": target.contiguous(memory_format=layout)})
        x = f.clone(memory_format=layout).requires_grad_(True)
        value = loss({"relu2_2": x})
        value.backward()
        assert x.grad is not None and x.grad.is_contiguous(memory_format=layout)
        results.append((value.detach(), x.grad.contiguous()))
    assert torch.allclose(results[0][0], 2.0 * torch.nn.functional.mse_loss(f, target))
    assert torch.allclose(results[0][0], results[1][0], rtol=1e-6)
    assert torch.allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-8)
    # a channels-last target with plain features (the training path passes targets per call) still works
    mixed = ContentLoss("relu2_2")({"relu2_2": f}, target={"relu2_2": target.contiguous(memory_format=torch.channels_last)})
    assert torch.allclose(mixed, torch.nn.functional.mse_loss(f, target))


def _lattice_picture(amplitude: float, *, seed: int = 0, size: tuple[int, int] = (96, 128)) -> torch.Tensor:
    """A mid-grey (1, 3, H, W) picture plus one fixed 4x4 pattern repeated over it (RMS ``amplitude``)."""
    g = torch.Generator().manual_seed(seed)
    cell = torch.randn(3, 4, 4, generator=g)
    cell = (cell - cell.mean(dim=(1, 2), keepdim=True)) / (cell - cell.mean(dim=(1, 2), keepdim=True)).pow(2).mean().sqrt()
    h, w = size
    return 128.0 + amplitude * cell.repeat(1, h // 4, w // 4)[None]


def test_the_lattice_loss_measures_a_pattern_locked_to_the_grid_and_not_strokes_or_ramps() -> None:
    from stylecam.perceptual.losses import lattice_loss

    lattice = _lattice_picture(8.0)
    assert lattice_loss(lattice, period=4).item() == pytest.approx(8.0, rel=0.1)
    # the same pattern shifted by a fraction of the period is still locked to the grid
    assert lattice_loss(torch.roll(lattice, 1, dims=3), period=4).item() == pytest.approx(8.0, rel=0.1)
    # texture of the same energy at random phases, and a smooth ramp, are not a lattice
    g = torch.Generator().manual_seed(1)
    noise = 128.0 + 8.0 * torch.randn(1, 3, 96, 128, generator=g)
    ramp = torch.linspace(0, 255, 128).expand(1, 3, 96, 128)
    assert lattice_loss(noise, period=4).item() < 1.5
    assert lattice_loss(ramp, period=4).item() < 0.1
    # a pattern of another period (here 8 px, twice the grid's) is not locked to a 3 px grid
    assert lattice_loss(_lattice_picture(8.0), period=3).item() < 2.0


def test_the_lattice_loss_has_a_gradient_that_removes_the_lattice() -> None:
    from stylecam.perceptual.losses import lattice_loss

    y = _lattice_picture(8.0).requires_grad_(True)
    optimizer = torch.optim.Adam([y], lr=1.0)
    first = None
    for _ in range(30):
        loss = lattice_loss(y, period=4)
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert lattice_loss(y, period=4).item() < 0.2 * first
