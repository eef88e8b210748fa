"""Spectral-residual saliency (Hou & Zhang 2007): where an image stands out, without any model.

Used where no better cut-out is at hand: the smart crop's subject finder (:mod:`workbench.review.crops`)
and the fidelity mask's fallback (:mod:`workbench.fidelity.mask`).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["spectral_residual"]


def spectral_residual(rgb: np.ndarray, side: int = 64) -> np.ndarray:
    """Saliency of an ``HxWx3`` uint8 image, computed on a ``side``-px grey copy and returned at the input
    size as float32 in 0..1 (all zeros for an image with nothing standing out)."""
    h, w = rgb.shape[:2]
    small = cv2.resize(cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY), (side, side),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (9, 9), 2.5)
    sal = cv2.resize(sal, (w, h), interpolation=cv2.INTER_LINEAR)
    top = float(sal.max())
    return (sal / top).astype(np.float32) if top > 0 else np.zeros((h, w), np.float32)
