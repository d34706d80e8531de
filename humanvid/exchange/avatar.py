"""`avatar/`: a video's canonical clothed person — `canonical.obj` (the mesh in the body's rest pose, with
its UV atlas), `texture.mtl` (its material: `texture.png`, written by the export stage) and `skin.npz`
(its skinning and the video's motion).

skin.npz arrays:
    bone_indices (V, K) int32 and bone_weights (V, K) float32, rows summing to 1: the bones of each vertex
    joint_names (J,) str: the body model's bones, in the order of the indices
    joint_parents (J,) int32: each bone's parent, −1 for the root
    rest_joints (J, 3) float32: each bone's head in the rest space [m]
    frames (T,) int64: source frame indices
    bone_transforms (T, J, 4, 4) float32: each bone's rest → camera-frame transform in each frame
    keyframes (N,) int64: the source frames whose evidence made the canonical shape
A frame's mesh is the canonical mesh posed by linear blend skinning: v_t = Σ_k w_k B_t[i_k] v. Every
`meshes/NNNNNN.obj` of the video shares canonical.obj's faces and texture coordinates, and one material
library, `meshes/texture.mtl`, naming `meshes/texture.png`: the same file as `avatar/texture.png` (a hard
link where the filesystem has them, else a copy). Each MTL and image lie beside their OBJs: tools resolve
the image from the OBJ's folder or from the MTL's, and some (trimesh) refuse paths out of the folder.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from humanvid import atomic
from humanvid.errors import HumanvidError
from humanvid.exchange.obj import TexturedTopology, mtl_text, read_obj, write_obj
from humanvid.exchange.run_folder import RunFolder
from humanvid.implicit.inference.posing import Skin
from humanvid.texture.atlas import UvAtlas


@dataclass
class SavedAvatar:
    mesh: trimesh.Trimesh  # rest space [m]
    skin: Skin
    joint_names: tuple[str, ...]
    joint_parents: np.ndarray  # (J,) int, −1 for the root
    rest_joints: np.ndarray  # (J, 3)
    frames: np.ndarray  # (T,)
    bone_transforms: np.ndarray  # (T, J, 4, 4)
    keyframes: np.ndarray  # (N,)
    atlas: UvAtlas

    def topology(self, library: str) -> TexturedTopology:
        """The faces and texture coordinates of every OBJ of this person, naming the material `library`."""
        return TexturedTopology.of(np.asarray(self.mesh.faces), self.atlas.uv, self.atlas.uv_faces, library)


def canonical_path(run: RunFolder):
    return run.avatar / "canonical.obj"


def skin_path(run: RunFolder):
    return run.avatar / "skin.npz"


def texture_path(run: RunFolder):
    return run.avatar / "texture.png"


def material_path(run: RunFolder):
    return run.avatar / "texture.mtl"


MESHES_MATERIAL = "texture.mtl"  # the material library of meshes/NNNNNN.obj, beside them


def write_meshes_material(run: RunFolder) -> None:
    """meshes/texture.mtl: the material every frame's mesh names."""
    atomic.write_text(run.meshes / MESHES_MATERIAL, mtl_text(texture_path(run).name))


def write_texture(run: RunFolder, png: bytes) -> list[Path]:
    """avatar/texture.png, and the same image as meshes/texture.png; returns both paths."""
    atomic.write_bytes(texture_path(run), png)
    shared = run.meshes / texture_path(run).name
    with atomic.atomic_path(shared) as tmp:
        tmp.unlink()
        try:
            os.link(texture_path(run), tmp)
        except OSError:  # no hard links here
            shutil.copyfile(texture_path(run), tmp)
    return [texture_path(run), shared]


def write_avatar(run: RunFolder, avatar: SavedAvatar) -> None:
    """Write skin.npz and texture.mtl, then canonical.obj (last: its presence says the avatar is complete)."""
    atomic.write_npz(
        skin_path(run), bone_indices=avatar.skin.bone_indices.astype(np.int32),
        bone_weights=avatar.skin.bone_weights.astype(np.float32), joint_names=np.array(avatar.joint_names),
        joint_parents=np.asarray(avatar.joint_parents, np.int32), rest_joints=np.asarray(avatar.rest_joints, np.float32), frames=np.asarray(avatar.frames, np.int64),
        bone_transforms=np.asarray(avatar.bone_transforms, np.float32),
        keyframes=np.asarray(avatar.keyframes, np.int64),
    )
    atomic.write_text(material_path(run), mtl_text(texture_path(run).name))
    write_obj(canonical_path(run), np.asarray(avatar.mesh.vertices), np.asarray(avatar.mesh.faces),
              topology=avatar.topology(material_path(run).name))


def read_avatar(run: RunFolder) -> SavedAvatar | None:
    """The avatar written earlier, or None if it is incomplete. Raises HumanvidError if it is damaged."""
    if not canonical_path(run).exists() or not skin_path(run).exists():
        return None
    try:
        obj = read_obj(canonical_path(run))
        if obj.uv is None:
            raise ValueError("canonical.obj has no texture coordinates")
        mesh = trimesh.Trimesh(obj.vertices, obj.faces, process=False)
        uv_vertex = np.zeros(len(obj.uv), np.int64)
        uv_vertex[obj.uv_faces] = obj.faces
        with np.load(skin_path(run), allow_pickle=False) as data:
            skin = Skin(data["bone_indices"].astype(np.int64), data["bone_weights"].astype(np.float64))
            saved = SavedAvatar(mesh, skin, tuple(str(name) for name in data["joint_names"]),
                                data["joint_parents"].astype(np.int64), data["rest_joints"], data["frames"],
                                data["bone_transforms"], data["keyframes"], UvAtlas(obj.uv, obj.uv_faces, uv_vertex))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise HumanvidError(f"{run.avatar}: the avatar is damaged ({err}); rerun with --overwrite") from None
    if len(saved.skin.bone_indices) != len(mesh.vertices):
        raise HumanvidError(f"{run.avatar}: canonical.obj and skin.npz do not match; rerun with --overwrite")
    return saved
