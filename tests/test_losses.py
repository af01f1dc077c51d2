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


def test_a_bf16_gram_is_float32_exact_and_its_gradient_is_close() -> None:
    f32 = _features(1).bfloat16().float()  # values a bf16 network gives
    w = torch.randn(16, 16)
    g_ref, d_ref = _gram_and_grad(f32, w)
    for layout in (torch.contiguous_format, torch.channels_last):
        g, d = _gram_and_grad(f32.bfloat16().contiguous(memory_format=layout), w)
        assert g.dtype == torch.float32
        assert torch.allclose(g, g_ref, rtol=1e-5, atol=1e-7)  # the product itself is float32
        assert ((d - d_ref).norm() / d_ref.norm()).item() < 1e-2  # the gradient in bf16


def test_a_bf16_gram_summed_over_many_slices_of_positions_is_the_same(monkeypatch) -> None:  # noqa: ANN001
    from stylecam.perceptual import losses

    f = _features(2).bfloat16()  # 2 x 16 channels x 240 positions
    whole = gram_matrix(f)
    monkeypatch.setattr(losses, "GRAM_CHUNK_BYTES", 4 * 2 * 16 * 7)  # 7 positions a slice, the last one short
    sliced = gram_matrix(f)
    assert torch.allclose(sliced, whole, rtol=1e-5, atol=1e-6)
    assert torch.allclose(sliced, gram_matrix(f.float()), rtol=1e-5, atol=1e-6)
