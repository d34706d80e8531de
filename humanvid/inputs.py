"""What the user asked to reconstruct: INPUT arguments → one job per output folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from humanvid.errors import HumanvidError
from preprocessing.video import is_video, list_images, natural_key


@dataclass(frozen=True)
class Job:
    """One input (a video, an image, or a folder of images) and where its outputs go."""

    source: Path
    name: str  # output folder name under OUT/


def resolve_inputs(paths: list[Path]) -> list[Job]:
    """Expand INPUT arguments: a folder of videos becomes one job per video.

    Raises HumanvidError for a missing path or a folder with nothing to process.
    """
    sources: list[Path] = []
    for path in paths:
        if not path.exists():
            raise HumanvidError(f"{path}: no such file or folder")
        if path.is_dir():
            sources.extend(_expand_folder(path))
        else:
            sources.append(path)
    jobs, taken = [], set()
    for source in sources:
        name = source.stem if source.is_file() else source.name
        name = name or "input"
        if name in taken:
            stem, number = name, 2
            while f"{stem}_{number}" in taken:
                number += 1
            name = f"{stem}_{number}"
        taken.add(name)
        jobs.append(Job(source, name))
    return jobs


def _expand_folder(folder: Path) -> list[Path]:
    try:
        entries = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    except OSError as err:
        raise HumanvidError(f"{folder}: cannot list folder ({err.strerror})") from None
    videos = sorted((p for p in entries if is_video(p)), key=lambda p: natural_key(p.name))
    images = list_images(folder)
    if videos and images:
        raise HumanvidError(f"{folder}: folder holds both videos and images; "
                            "pass the videos, or a folder that holds only the images of one sequence")
    if videos:
        return videos
    if images:
        return [folder]
    raise HumanvidError(f"{folder}: folder holds no images or videos")
