"""A video's clothed meshes: each frame's occupancy, fused with its neighbours' through the fitted body.

For each frame the network's occupancy is evaluated coarse to fine inside the visual hull and kept as
a volume; with a temporal window k, a frame's field is then averaged with the fields of the k frames
on either side, carried through the fitted body's skinning (humanvid.implicit.inference.fusion),
capped by the frame's depth band if there is one, and meshed. Frames stream through a window of
2k + 1 volumes, so memory does not grow with the video. With k = 0 each frame is meshed alone,
exactly as a still is (humanvid.implicit.inference.volume.mesh_frame).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import trimesh

from humanvid.implicit.inference.depth_band import frame_band
from humanvid.implicit.inference.frame import FrameInputs, encode_frame, occupancy_function
from humanvid.implicit.inference.fusion import PosedBody, VolumeField, fused_occupancy
from humanvid.implicit.inference.meshing import extract_surface
from humanvid.implicit.inference.volume import frame_grid, frame_volume
from humanvid.implicit.model.network import OccupancyNetwork


@dataclass
class SequenceFrame:
    """One frame of a video, as meshing it and carrying points with its body need it."""

    inputs: FrameInputs
    body: PosedBody  # the fitted body's fusion carriers


@dataclass(frozen=True)
class SequenceSettings:
    resolution: int = 256  # lattice cells along the longest side of the body's box
    temporal_window: int = 2  # frames on either side fused with each frame; 0: none
    depth_margin: float = 0.0  # metres of the depth band; 0: none
    device: str = "cpu"


TIMED_PARTS = ("network", "fusion", "surface")  # seconds per part, as mesh_sequence adds them up


def mesh_sequence(rows: list[int], available: list[int], load: Callable[[int], SequenceFrame],
                  network: OccupancyNetwork, settings: SequenceSettings,
                  timings: dict[str, float] | None = None) -> Iterator[tuple[int, FrameInputs, trimesh.Trimesh]]:
    """Mesh the frames `rows` (ascending), reading each needed frame once with `load`.

    available: every row with a person (the neighbours fusion may read). Yields (row, its inputs, its
    watertight mesh in the camera frame [m], possibly empty) in the order of `rows`; adds seconds per
    part (TIMED_PARTS) to `timings`.
    """
    timings = timings if timings is not None else {}
    for part in TIMED_PARTS:
        timings.setdefault(part, 0.0)
    window = settings.temporal_window
    present = set(available)
    needed = {r for row in rows for r in range(row - window, row + window + 1) if r in present}
    inputs: dict[int, FrameInputs] = {}
    posed: dict[int, PosedBody] = {}
    fields: dict[int, VolumeField] = {}
    unfused: dict[int, np.ndarray] = {}  # without fusion, the network's own volume is meshed as it is

    def prepare(row: int) -> None:
        if row in inputs or row not in needed:
            return
        tick = time.perf_counter()
        frame = load(row)
        grid = frame_grid(frame.inputs, settings.resolution)
        occupancy = occupancy_function(network, encode_frame(network, frame.inputs, settings.device))
        inputs[row], posed[row] = frame.inputs, frame.body
        # A field that neighbours read is kept whole (visual hull only): each band follows its own frame's
        # body, and cut fields averaged over the window would flicker at the cuts.
        if window:
            fields[row] = VolumeField.cropped(frame_volume(occupancy, frame.inputs, grid), grid)
        else:
            unfused[row] = frame_volume(occupancy, frame.inputs, grid, frame_band(frame.inputs, grid, settings.depth_margin))
        timings["network"] += time.perf_counter() - tick

    for row in rows:
        for other in range(row - window, row + window + 1):
            prepare(other)
        frame = inputs[row]
        grid = frame_grid(frame, settings.resolution)
        tick = time.perf_counter()
        if window:
            band = frame_band(frame, grid, settings.depth_margin)
            volume = frame_volume(fused_occupancy(row, fields, posed, window), frame, grid, band)
        else:
            volume = unfused.pop(row)
        timings["fusion"] += time.perf_counter() - tick
        tick = time.perf_counter()
        mesh = extract_surface(volume, grid)
        timings["surface"] += time.perf_counter() - tick
        yield row, frame, mesh
        for old in [r for r in inputs if r < row + 1 - window]:  # no later frame reads these any more
            del posed[old], inputs[old]
            fields.pop(old, None)
