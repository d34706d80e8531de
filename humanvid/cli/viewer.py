"""`humanvid install-viewer`: three.js for viewer.html, from the npm package's tarball."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from humanvid.errors import HumanvidError


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

    try:
        target = install_three(tarball)
    except HumanvidError as err:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error:[/] {err}")
        sys.exit(1)
    Console(highlight=False, soft_wrap=True).print(f"installed three.js in {target}")
