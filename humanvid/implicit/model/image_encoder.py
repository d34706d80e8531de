"""A small convolutional encoder–decoder: the 512×512 crop → a 128×128 feature map.

Light enough for a laptop CPU (≈ 1 GMAC per image): two stride-2 stems, residual
blocks at 1/4 and 1/8 resolution, and one skip back to 1/4 for detail. With
`context_levels` it also looks at 1/16, 1/32, … of the crop and adds what it sees
there back into the 1/8 features: a receptive field as large as the person
(≈ 120 px without them), for a fraction of the cost of the 1/4 level.
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.GroupNorm(8, channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.GroupNorm(8, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


def _down(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False),
                         nn.GroupNorm(8, out_channels), nn.ReLU(inplace=True))


class ImageEncoder(nn.Module):
    """(B, 4, 512, 512) RGB (background removed) + mask → (B, C, 128, 128) features."""

    def __init__(self, in_channels: int = 4, channels: int = 32, out_channels: int = 32, context_levels: int = 0):
        super().__init__()
        self.stem = nn.Sequential(_down(in_channels, channels // 2), _down(channels // 2, channels))  # 1/4
        self.quarter = nn.Sequential(ResidualBlock(channels), ResidualBlock(channels))
        self.eighth = nn.Sequential(_down(channels, 2 * channels), ResidualBlock(2 * channels),
                                    ResidualBlock(2 * channels))
        self.context = nn.ModuleList(nn.Sequential(_down(2 * channels, 2 * channels), ResidualBlock(2 * channels))
                                     for _ in range(context_levels))  # 1/16, 1/32, …
        self.fuse = nn.Sequential(nn.Conv2d(3 * channels, out_channels, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(out_channels, out_channels, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        quarter = self.quarter(self.stem(image))
        eighth = self.eighth(quarter)
        levels = [eighth]
        for level in self.context:
            levels.append(level(levels[-1]))
        while len(levels) > 1:  # coarse to fine: each level is upsampled and added to the next finer one
            coarse = levels.pop()
            levels[-1] = levels[-1] + _upsampled(coarse, levels[-1])
        return self.fuse(torch.cat([quarter, _upsampled(levels[0], quarter)], dim=1))


def _upsampled(features: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return nn.functional.interpolate(features, size=like.shape[-2:], mode="bilinear", align_corners=False)
