"""Colour preservation for Gatys (Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer").

- luminance-only transfer: optimise on grey (luminance) images, then put the result's luminance
  under the content's chroma (YCrCb);
- colour matching ("histogram"): give the style image the content's colour mean and covariance
  (the paper's linear "colour histogram matching") before optimising.

All images are (H, W, 3) uint8 BGR.
"""

from __future__ import annotations

import cv2
import numpy as np


def luminance(image_bgr: np.ndarray) -> np.ndarray:
    """(H, W) float64 luma (Y of YCrCb, 0-255)."""
    return cv2.cvtColor(image_bgr, cv2.COLOR_BGR2YCrCb)[:, :, 0].astype(np.float64)


def grey_bgr(luma: np.ndarray) -> np.ndarray:
    """(H, W) luma -> (H, W, 3) uint8 BGR grey image."""
    y = np.clip(np.round(luma), 0, 255).astype(np.uint8)
    return np.repeat(y[:, :, None], 3, axis=2)


def match_luminance(style_bgr: np.ndarray, content_bgr: np.ndarray) -> np.ndarray:
    """The style's luminance as a grey image, shifted and scaled to the content's luma mean and std."""
    ys, yc = luminance(style_bgr), luminance(content_bgr)
    matched = (ys - ys.mean()) * (yc.std() / max(ys.std(), 1e-6)) + yc.mean()
    return grey_bgr(matched)


def combine_luminance_chroma(luma_source_bgr: np.ndarray, chroma_source_bgr: np.ndarray) -> np.ndarray:
    """Y from ``luma_source_bgr`` with Cr, Cb from ``chroma_source_bgr`` (same size) -> uint8 BGR."""
    if luma_source_bgr.shape != chroma_source_bgr.shape:
        raise ValueError(f"shapes differ: {luma_source_bgr.shape} vs {chroma_source_bgr.shape}")
    ycc = cv2.cvtColor(chroma_source_bgr, cv2.COLOR_BGR2YCrCb)
    ycc[:, :, 0] = cv2.cvtColor(luma_source_bgr, cv2.COLOR_BGR2YCrCb)[:, :, 0]
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)


def _sqrtm(cov: np.ndarray, *, inverse: bool = False) -> np.ndarray:
    vals, vecs = np.linalg.eigh(cov)
    vals = np.clip(vals, 1e-5, None)
    return (vecs * (vals ** (-0.5 if inverse else 0.5))) @ vecs.T


def match_colors(source_bgr: np.ndarray, reference_bgr: np.ndarray) -> np.ndarray:
    """``source_bgr`` recoloured so its pixel mean and covariance equal those of ``reference_bgr``."""
    src = source_bgr.reshape(-1, 3).astype(np.float64)
    ref = reference_bgr.reshape(-1, 3).astype(np.float64)
    mu_s, mu_r = src.mean(0), ref.mean(0)
    cov_s = np.cov(src - mu_s, rowvar=False) + np.eye(3) * 1e-3
    cov_r = np.cov(ref - mu_r, rowvar=False) + np.eye(3) * 1e-3
    transform = _sqrtm(cov_r) @ _sqrtm(cov_s, inverse=True)
    out = (src - mu_s) @ transform.T + mu_r
    return np.clip(np.round(out), 0, 255).astype(np.uint8).reshape(source_bgr.shape)
