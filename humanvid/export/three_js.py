"""three.js for the viewer page: installing it from npm's tarball, and handing its modules to the writer.

The viewer page (humanvid.export.viewer) inlines three.js, so the page needs no network; three.js is
therefore installed once by the setup, never fetched at run time:

    npm pack three@0.187.0
    humanvid install-viewer three-0.187.0.tgz

checks the tarball's SHA-256 and copies, out of it, only the ES modules the page needs — the core
build (``build/three.module.js``, which imports ``./three.core.js``; 0.187 ships no ``.min.js`` build)
and the addons GLTFLoader and OrbitControls with whatever they import, found by following their
relative imports — plus three.js's LICENSE and package.json, into

    <environment prefix>/share/humanvid/three-0.187.0/     (``three_folder()``)

i.e. the active virtual environment's ``share/``, where a wheel puts humanvid's shipped data too;
outside the repository's tracked files, and gone with the environment. Each file keeps its path in
the package (``build/…``, ``examples/jsm/…``).

``three_modules()`` returns the installed modules for inlining: every module under a bare specifier
(``three`` for the core build, ``three/<path in the package>`` for the rest), with the relative
import specifiers in the sources rewritten to those bare specifiers, so an import map can serve
them all from ``data:`` URLs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import sysconfig
import tarfile
import tempfile
from pathlib import Path

from humanvid.errors import HumanvidError

THREE_VERSION = "0.187.0"
TARBALL_SHA256 = "ff540832ded0cfe919764d24a3d88f3e2a05f23303f876423e4f893841e90728"  # `npm pack three@0.187.0`
TARBALL_NAME = f"three-{THREE_VERSION}.tgz"
INSTALL_COMMANDS = f"npm pack three@{THREE_VERSION} && humanvid install-viewer {TARBALL_NAME}"

# Bare specifier the page imports → file in the package. Their relative imports are followed at install time.
ENTRY_POINTS = {
    "three": "build/three.module.js",
    "three/addons/loaders/GLTFLoader.js": "examples/jsm/loaders/GLTFLoader.js",
    "three/addons/controls/OrbitControls.js": "examples/jsm/controls/OrbitControls.js",
}
EXTRA_FILES = ("LICENSE", "package.json")  # installed beside the modules, never inlined

# `from '…'`, `import '…'` and `import( '…' )` with a relative specifier (the only ones that need rewriting).
_RELATIVE_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}/[^'"\s]+)\2""")


def three_folder() -> Path:
    """Where `humanvid install-viewer` puts three.js: share/humanvid/three-<version>/ of the environment."""
    return Path(sysconfig.get_path("data")) / "share" / "humanvid" / f"three-{THREE_VERSION}"


def three_installed(folder: Path | None = None) -> bool:
    folder = three_folder() if folder is None else Path(folder)
    return all((folder / path).is_file() for path in ENTRY_POINTS.values())


def install_three(source: str | Path, folder: Path | None = None) -> Path:
    """Install three.js's page modules from `source`, the tarball of `npm pack three@THREE_VERSION`, into
    `folder` (default ``three_folder()``), replacing what was there; returns the folder. Anything but the
    expected tarball is refused with a HumanvidError, and `folder` is then left as it was."""
    source = Path(source)
    folder = three_folder() if folder is None else Path(folder)
    if not source.is_file():
        raise HumanvidError(f"{source}: no such file; get it with `npm pack three@{THREE_VERSION}`")
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != TARBALL_SHA256:
        raise HumanvidError(f"{source}: not the tarball of three.js {THREE_VERSION} (SHA-256 {digest[:12]}…, "
                            f"expected {TARBALL_SHA256[:12]}…); get it with `npm pack three@{THREE_VERSION}`")
    files = _read_needed_files(source, data)
    version = json.loads(files["package.json"]).get("version")
    if version != THREE_VERSION:  # cannot happen with the right hash; says so clearly if the constants drift
        raise HumanvidError(f"{source}: holds three.js {version}, expected {THREE_VERSION}")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".part", dir=folder.parent))
        try:
            for path, content in files.items():
                (staging / path).parent.mkdir(parents=True, exist_ok=True)
                (staging / path).write_bytes(content)
            for directory in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
                os.chmod(directory, 0o755)  # mkdtemp makes it 0700; installed files are readable by all
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            if folder.exists():
                os.replace(folder, old)
            os.replace(staging, folder)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as err:
        raise HumanvidError(f"cannot write {folder}: {err.strerror or err}") from None
    return folder


def three_modules(folder: Path | None = None) -> dict[str, str]:
    """Bare specifier → module source of every installed module the page needs (entry points and what they
    import, relative imports rewritten to bare specifiers). HumanvidError with the install commands if absent."""
    folder = three_folder() if folder is None else Path(folder)
    if not three_installed(folder):
        raise HumanvidError(f"three.js {THREE_VERSION} is not installed in {folder} (the viewer page inlines it); "
                            f"install it with: {INSTALL_COMMANDS}")
    try:
        sources = _module_closure(lambda path: (folder / path).read_text(encoding="utf-8")
                                  if (folder / path).is_file() else None)
    except (HumanvidError, OSError, UnicodeDecodeError) as err:
        raise HumanvidError(f"three.js in {folder} is damaged ({err}); reinstall it with: {INSTALL_COMMANDS}") from None
    return {_specifier(path): _rewrite(path, text) for path, text in sources.items()}


def _read_needed_files(source: Path, data: bytes) -> dict[str, bytes]:
    """Package path → bytes of the modules the page needs and EXTRA_FILES, read from the tarball (in memory)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            def read(path: str) -> bytes | None:
                try:
                    member = archive.extractfile(f"package/{path}")
                except KeyError:
                    return None
                return None if member is None else member.read()

            modules = _module_closure(lambda path: None if (raw := read(path)) is None else raw.decode("utf-8"))
            files = {path: text.encode("utf-8") for path, text in modules.items()}
            for path in EXTRA_FILES:
                content = read(path)
                if content is None:
                    raise KeyError(path)
                files[path] = content
            return files
    except HumanvidError as err:
        raise HumanvidError(f"{source}: {err}") from None
    except KeyError as err:
        raise HumanvidError(f"{source}: holds no package/{err.args[0]}") from None
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError):
        raise HumanvidError(f"{source}: not a readable npm tarball") from None


def _module_closure(read) -> dict[str, str]:
    """Package path → source of the entry points and every module they import by relative path.
    `read(path)` gives a module's text or None if it is absent (a HumanvidError then)."""
    sources: dict[str, str] = {}
    pending = list(ENTRY_POINTS.values())
    while pending:
        path = pending.pop()
        if path in sources:
            continue
        text = read(path)
        if text is None:
            raise HumanvidError(f"three.js module {path} is missing")
        sources[path] = text
        pending += [_resolve(path, match.group(3)) for match in _RELATIVE_IMPORT.finditer(text)]
    return sources


def _resolve(importer: str, specifier: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))


def _specifier(path: str) -> str:
    """The bare specifier the import map serves the module at package path `path` under."""
    bare = {file: name for name, file in ENTRY_POINTS.items()}
    return bare.get(path, f"three/{path}")


def _rewrite(path: str, text: str) -> str:
    return _RELATIVE_IMPORT.sub(lambda m: f"{m.group(1)}{m.group(2)}{_specifier(_resolve(path, m.group(3)))}{m.group(2)}",
                                text)
