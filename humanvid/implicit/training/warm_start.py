"""Warm starts: a network to be trained begins from another checkpoint's weights.

`encoder_from` takes the image encoder alone (network v2's recipe: the body-residual MLP starts
at zero output, i.e. at the body's own occupancy). `weights_from` takes the whole network,
including a network given features its source did not read: the point features end with the
optional ones (the body SDF last, network.NetworkConfig.point_features), so the source's weights
fill the first columns of the MLP's input layers and the new columns start at zero — before any
step the new network computes the source's function.
"""

from __future__ import annotations

from pathlib import Path

import torch

from humanvid.errors import HumanvidError
from humanvid.implicit.model.checkpoint import read_checkpoint
from humanvid.implicit.model.network import OccupancyNetwork


def encoder_from(network: OccupancyNetwork, checkpoint: Path) -> None:
    """Copy `checkpoint`'s image encoder into `network`; zero the last layer of a body-residual MLP."""
    source = read_checkpoint(checkpoint)
    prefix = "encoder."
    weights = {k[len(prefix):]: v for k, v in source["state_dict"].items() if k.startswith(prefix)}
    if network.encoder is None or not weights:
        raise HumanvidError(f"{checkpoint}: no image encoder to start from, or this network has none")
    try:
        network.encoder.load_state_dict(weights)
    except RuntimeError:
        raise HumanvidError(f"{checkpoint}: its image encoder has other settings than this network's") from None
    if network.config.body_residual:
        last = network.mlp.second[-1]
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)


def weights_from(network: OccupancyNetwork, checkpoint: Path) -> None:
    """Copy every tensor of `checkpoint` into `network`: equal shapes whole; an MLP input layer that reads
    more features than the source's gets the source's columns first and zeros in its new ones.
    Anything else that differs (widths, encoder settings, a missing or extra tensor) is refused."""
    source = read_checkpoint(checkpoint)["state_dict"]
    target = network.state_dict()
    if set(source) != set(target):
        raise HumanvidError(f"{checkpoint}: its layers are not this network's (other encoder or MLP settings)")
    for name, weight in target.items():
        given = source[name]
        if given.shape == weight.shape:
            weight.copy_(given)
        elif (name in ("mlp.first.0.weight", "mlp.second.0.weight") and given.ndim == 2
              and given.shape[0] == weight.shape[0] and given.shape[1] < weight.shape[1]):
            weight.zero_()
            weight[:, :given.shape[1]] = given
        else:
            raise HumanvidError(f"{checkpoint}: {name} is {tuple(given.shape)}, this network's "
                                f"{tuple(weight.shape)} (other settings)")
