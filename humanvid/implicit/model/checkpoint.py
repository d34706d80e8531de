"""Network checkpoints: plain tensors and primitives only, loaded with weights_only=True.

A checkpoint is a dict: format, config (NetworkConfig as a dict), state_dict,
and optionally training state (step, optimizer, RNG) and metrics. A pickle
from elsewhere can therefore not run code when it is loaded.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch

from humanvid import atomic
from humanvid.errors import HumanvidError
from humanvid.implicit.model.network import NetworkConfig, OccupancyNetwork

FORMAT = "humanvid-occupancy-1"
SHIPPED_NAME = "occupancy_v1.pt"


def shipped_checkpoint_candidates() -> list[Path]:
    """Where the shipped checkpoint can be: ``checkpoints/`` of a source checkout (also an editable
    install), then ``<prefix>/share/humanvid/`` where a wheel installs it (environment, then user scheme)."""
    import sysconfig

    checkout = Path(__file__).resolve().parents[3]  # humanvid/implicit/model/checkpoint.py → the checkout
    candidates = [checkout / "checkpoints" / SHIPPED_NAME]
    for scheme in (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user")):
        try:
            candidates.append(Path(sysconfig.get_path("data", scheme)) / "share" / "humanvid" / SHIPPED_NAME)
        except KeyError:
            continue
    return candidates


def shipped_checkpoint(candidates: list[Path] | None = None) -> Path:
    """The first candidate that exists (the first one if none does: the error then names the checkout path)."""
    candidates = shipped_checkpoint_candidates() if candidates is None else candidates
    return next((path for path in candidates if path.is_file()), candidates[0])


DEFAULT_CHECKPOINT = shipped_checkpoint()


def resolve_checkpoint(path: str | Path) -> Path:
    """`path` itself, or, where no such file exists and it is a bare file name, the shipped checkpoint of
    that name (``--checkpoint occupancy_v1_sdf.pt`` works from any folder and from an installed wheel)."""
    path = Path(path)
    if path.exists() or path.parent != Path("."):
        return path
    shipped = [candidate.parent / path.name for candidate in shipped_checkpoint_candidates()]
    return next((candidate for candidate in shipped if candidate.is_file()), path)


def save_checkpoint(path: str | Path, network: OccupancyNetwork, extra: dict | None = None) -> None:
    """Write atomically: a crash leaves the previous checkpoint intact."""
    weights = {name: tensor.detach().cpu() for name, tensor in network.state_dict().items()}
    payload = {"format": FORMAT, "config": _plain(network.config.as_dict()), "state_dict": weights}
    payload.update(extra or {})
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic.write_bytes(path, buffer.getvalue())


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint's dict; HumanvidError for a missing, corrupt or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise HumanvidError(f"checkpoint {path} not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about foreign pickle protocols before refusing them
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for corrupt or unsafe files
        raise HumanvidError(f"checkpoint {path} is unreadable or not a humanvid checkpoint "
                            f"({type(err).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise HumanvidError(f"checkpoint {path} is not a humanvid occupancy checkpoint")
    return payload


def load_network(path: str | Path = DEFAULT_CHECKPOINT, device: str = "cpu") -> OccupancyNetwork:
    payload = read_checkpoint(path)
    config = payload["config"]
    config["encoded_landmarks"] = tuple(config["encoded_landmarks"])
    try:
        network = OccupancyNetwork(NetworkConfig(**config))
        network.load_state_dict(payload["state_dict"])
    except (TypeError, RuntimeError, KeyError) as err:
        raise HumanvidError(f"checkpoint {path} does not match this humanvid version ({type(err).__name__})") from None
    return network.to(device).eval()


def _plain(config: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in config.items()}
