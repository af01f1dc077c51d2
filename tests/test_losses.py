"""Gram matrices in every memory format and precision the losses meet: same value, same gradient."""

from __future__ import annotations

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
