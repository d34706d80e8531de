"""Filters over time of a fitted body sequence: the kernels and their application to BodyParams."""

from __future__ import annotations

import math

import torch

from humanvid.body.model import BodyParams


def box_kernel(radius: int) -> torch.Tensor:
    """(2 radius + 1,) moving average."""
    return torch.full((2 * max(radius, 0) + 1,), 1.0 / (2 * max(radius, 0) + 1), dtype=torch.float64)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """(2 ⌈3σ⌉ + 1,) normalised Gaussian over frame offsets; (1,) identity for σ ≤ 0."""
    if sigma <= 0:
        return torch.ones(1, dtype=torch.float64)
    reach = math.ceil(3 * sigma)
    offsets = torch.arange(-reach, reach + 1, dtype=torch.float64)
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


def smoothed(params: BodyParams, kernel: torch.Tensor, linear_ends: bool = False) -> BodyParams:
    """The per-frame values filtered over time by the odd-length `kernel`.

    Used on the independent per-frame initialisations, which jitter (the optimiser would spend
    its iterations on that), and on the fitted sequence. Axis-angles are filtered directly:
    they are continuous over time (unwrapped) and neighbouring frames are close. Beyond the
    ends the sequence is continued as a constant, or with linear_ends by point reflection
    about the end frame (2 x₀ − x_k), which keeps a steady motion steady up to the last frame.
    """
    radius = len(kernel) // 2
    if radius == 0 or params.batch_size < 3:
        return params
    weights = kernel.to(params.pose.dtype)[None, None]
    count = params.batch_size
    before = torch.arange(radius, 0, -1).clamp(max=count - 1)  # frames mirrored before the first
    after = (count - 1 - torch.arange(1, radius + 1)).clamp(min=0)  # and after the last

    def smooth(values: torch.Tensor) -> torch.Tensor:
        flat = values.reshape(count, -1).T[:, None, :]  # (C, 1, T)
        if linear_ends:
            first, last = flat[..., :1], flat[..., -1:]
            padded = torch.cat([2 * first - flat[..., before], flat, 2 * last - flat[..., after]], dim=-1)
        else:
            padded = torch.nn.functional.pad(flat, (radius, radius), mode="replicate")
        return torch.nn.functional.conv1d(padded, weights)[:, 0].T.contiguous().reshape(values.shape)

    return BodyParams(smooth(params.global_orient), smooth(params.translation), smooth(params.pose), params.shape)
