"""Preview overlays: a mesh in front of the camera lands where its projection says."""

from __future__ import annotations

import cv2
import numpy as np
import trimesh

from humanvid.camera import Camera
from humanvid.export.preview import overlay, write_video


def test_overlay_covers_the_projected_mesh_and_video_is_written(tmp_path):
    camera = Camera.from_dict({"fx": 500.0, "fy": 500.0, "cx": 159.5, "cy": 119.5, "width": 320, "height": 240})
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    sphere.apply_translation([0.5, 0.0, -5.0])  # right of the optical axis
    frame = np.zeros((240, 320, 3), np.uint8)
    drawn = overlay(frame, sphere, camera)
    changed = np.argwhere(drawn.sum(axis=2) > 0)
    assert len(changed) > 0
    assert abs(changed[:, 1].mean() - (159.5 + 500 * 0.5 / 5.0)) < 2
    assert abs(changed[:, 0].mean() - 119.5) < 2
    radius_px = np.sqrt(len(changed) / np.pi)
    assert abs(radius_px - 500 * 0.5 / 5.0) < 3
    assert write_video(tmp_path / "preview.mp4", [drawn] * 5, fps=10) == 5
    capture = cv2.VideoCapture(str(tmp_path / "preview.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
