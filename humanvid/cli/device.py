"""--device: which torch device a command may use."""

from __future__ import annotations

import click


def check_device(device: str) -> None:
    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise click.BadParameter(f"{device!r}: use cpu or cuda (cuda:N for a given GPU)", param_hint="--device")
    import torch

    if not torch.cuda.is_available():
        raise click.BadParameter("CUDA was requested but torch sees no CUDA GPU; use --device cpu",
                                 param_hint="--device")
