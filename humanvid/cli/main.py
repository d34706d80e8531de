"""`humanvid`: the command group, with every command registered.

    humanvid reconstruct INPUT... -o OUT      (humanvid.cli.reconstruct)
    humanvid evaluate PRED GT                 (humanvid.cli.evaluate)
    humanvid synth / synth-sheet              (humanvid.cli.synth)
    humanvid train                            (humanvid.cli.train)
    humanvid install-pose-model SOURCE        (humanvid.cli.pose_model)
    humanvid install-viewer TARBALL           (humanvid.cli.viewer)
"""

from __future__ import annotations

import click

from humanvid import __version__
from humanvid.cli.evaluate import evaluate_command
from humanvid.cli.pose_model import install_pose_model
from humanvid.cli.reconstruct import reconstruct
from humanvid.cli.synth import sheet_command, synth_command
from humanvid.cli.train import train_command
from humanvid.cli.viewer import install_viewer


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="humanvid")
def main() -> None:
    """humanvid: clothed 3D humans from ordinary monocular video.

    \b
    Quick start:
      humanvid reconstruct video.mp4 -o out
    """


for _command in (reconstruct, evaluate_command, install_pose_model, install_viewer, synth_command, sheet_command,
                 train_command):
    main.add_command(_command)

if __name__ == "__main__":
    main()
