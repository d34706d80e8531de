"""`humanvid install-pose-model`: MediaPipe's heavy pose model, from the npm package's tarball."""

from __future__ import annotations

from pathlib import Path

import click

from humanvid.cli.install import install_or_exit


@click.command("install-pose-model", short_help="Install MediaPipe's heavy pose model (more accurate body fits).")
@click.argument("source", type=click.Path(path_type=Path))
def install_pose_model(source):
    """Install MediaPipe's heavy pose model from SOURCE, for more accurate body fits.

    \b
    SOURCE is the tarball of the npm package @mediapipe/pose (or the
    pose_landmark_heavy.tflite in it); its SHA-256 is checked, then the model
    is copied into mediapipe's package folder:
      npm pack @mediapipe/pose@0.5.1675469404
      humanvid install-pose-model mediapipe-pose-0.5.1675469404.tgz
    """
    from preprocessing.pose_models import install_heavy_model

    install_or_exit(install_heavy_model, source, "MediaPipe's heavy pose model")
