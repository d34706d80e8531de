"""`humanvid install-viewer`: three.js for viewer.html, from the npm package's tarball."""

from __future__ import annotations

from pathlib import Path

import click

from humanvid.cli.install import install_or_exit


@click.command("install-viewer", short_help="Install three.js for the viewer page (viewer.html).")
@click.argument("tarball", type=click.Path(path_type=Path))
def install_viewer(tarball):
    """Install three.js for the viewer page from TARBALL.

    \b
    TARBALL is the tarball of the npm package three; its SHA-256 is checked,
    then the ES modules the page inlines are copied out of it into
    <environment>/share/humanvid/three-0.187.0/:
      npm pack three@0.187.0
      humanvid install-viewer three-0.187.0.tgz
    """
    from humanvid.export.three_js import install_three

    install_or_exit(install_three, tarball, "three.js")
