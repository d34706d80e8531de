"""Binary glTF 2.0 (.glb) of a skinned, textured, animated person, as Blender, three.js and viewers read it.

Contract. ``glb_bytes(avatar)`` returns one self-contained .glb (JSON chunk + one BIN chunk, no external
files); ``write_glb(path, avatar)`` writes it atomically. The file holds:

- one scene whose frame is the video camera's frame (OpenGL: x right, y up, looking down −z; metres);
- one triangle mesh with POSITION (rest pose, min/max), NORMAL (smooth, unit), TEXCOORD_0 (v flipped to
  glTF's top-left origin; only if ``uv`` is given), JOINTS_0 (UNSIGNED_BYTE for up to 255 joints, else
  UNSIGNED_SHORT), WEIGHTS_0 (FLOAT, rows summing to 1 in float32) and UNSIGNED_SHORT/INT indices; the mesh
  node has no transform and is a root of the scene;
- a material: metallic 0, roughness 1, single-sided, with the PNG as base-colour texture (sampler: linear
  magnification, trilinear minification, wrap u REPEAT, v CLAMP_TO_EDGE), or plain light grey untextured;
- a skin: node j is joint j (named ``joint_names[j]``), its rest translation ``rest_heads[j] −
  rest_heads[parent]`` (roots: ``rest_heads[j]``), no rotation; inverse bind matrix j translates by
  ``−rest_heads[j]``; several root joints hang under one extra unnamed node, the skin's skeleton;
- an animation "video": per joint a translation and a unit-quaternion rotation channel, LINEAR, one key per
  entry of ``times``. The joint's global transform at key t is ``B[t, j] @ Translate(rest_heads[j])``, so a
  glTF viewer skins exactly ``Σ_k w_k B[t, i_k] @ [v, 1]`` (rotations orthonormalised first). It costs
  ``4 + 28·J`` bytes per key;
- if ``camera`` is given: a node "video camera" at the origin, identity transform, with a perspective
  camera of the video's vertical field of view and aspect (glTF cannot express the principal point).

Malformed input raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanvid import atomic

_COMPONENT = {np.dtype(np.float32): 5126, np.dtype(np.uint32): 5125, np.dtype(np.uint16): 5123,
              np.dtype(np.uint8): 5121}
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_LINEAR, _LINEAR_MIPMAP_LINEAR, _REPEAT, _CLAMP_TO_EDGE = 9729, 9987, 10497, 33071
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LIGHT_GREY = [0.8, 0.8, 0.8, 1.0]
_RIGID_TOLERANCE = 1e-3  # largest |RᵀR − I| entry and bottom-row error accepted in bone_transforms
_WEIGHT_SUM_TOLERANCE = 1e-4


@dataclass
class GltfAvatar:
    """A rigged person: rest mesh, skinning, per-key bone transforms, optional texture and video camera."""

    vertices: np.ndarray  # (V, 3) float, rest-pose positions [m] (OpenGL frame: x right, y up, looking down −z)
    faces: np.ndarray  # (F, 3) int, counter-clockwise seen from outside
    uv: np.ndarray | None  # (V, 2) OBJ-convention texture coordinates (origin bottom-left); None: untextured
    joint_indices: np.ndarray  # (V, 4) int, bones of each vertex
    joint_weights: np.ndarray  # (V, 4) float, rows sum to 1
    joint_names: tuple[str, ...]  # (J,)
    joint_parents: np.ndarray  # (J,) int, parent bone, −1 for a root; any order
    rest_heads: np.ndarray  # (J, 3) each bone's head (pivot) in the rest space [m]
    bone_transforms: np.ndarray  # (T, J, 4, 4) rigid rest → posed: posed v = Σ_k w_k B[t, i_k] @ [v, 1]
    times: np.ndarray  # (T,) seconds of each key, ≥ 0, increasing
    texture_png: bytes | None  # PNG of the base colour texture (needs uv)
    camera: tuple[float, float, float, float, int, int] | None  # fx, fy, cx, cy [px], width, height
    name: str = "person"


def write_glb(path: str | Path, avatar: GltfAvatar) -> None:
    """Write the avatar as a .glb file (atomically: readers see the old file or the whole new one)."""
    atomic.write_bytes(path, glb_bytes(avatar))


def glb_bytes(avatar: GltfAvatar) -> bytes:
    """The .glb file of the avatar (see the module docstring for what it holds)."""
    a = _checked(avatar)
    blob = _Blob()
    mesh = _mesh_json(a, blob)
    joint_count = len(a.joint_names)
    roots = [j for j in range(joint_count) if a.joint_parents[j] < 0]
    nodes = _joint_nodes(a.joint_names, a.joint_parents, a.rest_heads)
    skeleton = roots[0]
    if len(roots) > 1:  # one common root for the skin
        skeleton = len(nodes)
        nodes.append({"children": roots})
    ibm = np.tile(np.eye(4, dtype=np.float32), (joint_count, 1, 1))  # column-major Translate(−head): transposed
    ibm[:, 3, :3] = -a.rest_heads
    skin = {"inverseBindMatrices": blob.add(ibm, "MAT4"), "joints": list(range(joint_count)),
            "skeleton": skeleton}
    mesh_node = len(nodes)
    nodes.append({"name": a.name, "mesh": 0, "skin": 0})
    scene_nodes = [skeleton, mesh_node]
    document = {"asset": {"version": "2.0", "generator": "humanvid"}, "scene": 0,
                "scenes": [{"name": a.name, "nodes": scene_nodes}], "nodes": nodes, "meshes": [mesh],
                "skins": [skin], "animations": [_animation_json(a, blob)]}
    if a.camera is not None:
        scene_nodes.append(len(nodes))
        nodes.append({"name": "video camera", "camera": 0})
        document["cameras"] = [_camera_json(a.camera)]
    document.update(_material_json(a.texture_png, blob))
    document["accessors"], document["bufferViews"] = blob.accessors, blob.views
    binary = blob.data()
    document["buffers"] = [{"byteLength": len(binary)}]
    return _glb_container(document, binary)


class _Blob:
    """The BIN chunk under construction, with its buffer views and accessors."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.length = 0
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def view(self, data: bytes, target: int | None = None) -> int:
        """A buffer view of `data`, starting on a 4-byte boundary; returns its index."""
        view = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        padded = data + b"\0" * (-len(data) % 4)
        self.parts.append(padded)
        self.length += len(padded)
        self.views.append(view)
        return len(self.views) - 1

    def accessor(self, view: int, dtype, kind: str, count: int, offset: int = 0, bounds=None) -> int:
        accessor = {"bufferView": view, "componentType": _COMPONENT[np.dtype(dtype)], "count": int(count),
                    "type": kind}
        if offset:
            accessor["byteOffset"] = int(offset)
        if bounds is not None:  # (N, C) values whose per-component min/max are recorded
            accessor["min"], accessor["max"] = bounds.min(0).tolist(), bounds.max(0).tolist()
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def add(self, array: np.ndarray, kind: str, target: int | None = None, bounds: bool = False) -> int:
        """An accessor (in its own view) of `array`, one element per row (or per leading index)."""
        array = np.ascontiguousarray(array)
        view = self.view(array.tobytes(), target)
        flat = array.reshape(len(array), -1)
        return self.accessor(view, array.dtype, kind, len(array), bounds=flat if bounds else None)

    def data(self) -> bytes:
        return b"".join(self.parts)


def _checked(avatar: GltfAvatar) -> GltfAvatar:
    """A copy of the avatar with validated arrays of the expected dtypes; ValueError names what is wrong."""
    vertices = _array("vertices", avatar.vertices, np.float64, (None, 3))
    count = len(vertices)
    faces = _array("faces", avatar.faces, np.int64, (None, 3))
    if not count or not len(faces):
        raise ValueError("the mesh needs at least one vertex and one face")
    if faces.min() < 0 or faces.max() >= count:
        raise ValueError(f"faces must index the {count} vertices")
    uv = None if avatar.uv is None else _array("uv", avatar.uv, np.float64, (count, 2))
    names = tuple(avatar.joint_names)
    joints = len(names)
    if joints == 0 or joints > 65535 or not all(isinstance(n, str) for n in names):
        raise ValueError("joint_names must be 1 to 65535 strings")
    indices = _array("joint_indices", avatar.joint_indices, np.int64, (count, 4))
    if (indices.min() < 0 or indices.max() >= joints):
        raise ValueError(f"joint_indices must lie in [0, {joints})")
    weights = _array("joint_weights", avatar.joint_weights, np.float64, (count, 4))
    if (weights < -1e-6).any():
        raise ValueError("joint_weights must not be negative")
    sums = weights.sum(1)
    if np.abs(sums - 1.0).max() > _WEIGHT_SUM_TOLERANCE:
        worst = int(np.abs(sums - 1.0).argmax())
        raise ValueError(f"joint_weights rows must sum to 1; vertex {worst}'s sum to {sums[worst]:.6g}")
    parents = _array("joint_parents", avatar.joint_parents, np.int64, (joints,))
    _check_tree(parents)
    heads = _array("rest_heads", avatar.rest_heads, np.float64, (joints, 3))
    bones = _array("bone_transforms", avatar.bone_transforms, np.float64, (None, joints, 4, 4))
    _check_rigid(bones)
    times = _array("times", avatar.times, np.float64, (len(bones),))
    if not len(times):
        raise ValueError("times must hold at least one key")
    if times[0] < 0 or (np.diff(times.astype(np.float32)) <= 0).any():
        raise ValueError("times must be ≥ 0 and strictly increasing (also in float32)")
    png = avatar.texture_png
    if png is not None and bytes(png[:8]) != _PNG_SIGNATURE:
        raise ValueError("texture_png must be the bytes of a PNG file")
    if png is not None and uv is None:
        raise ValueError("texture_png needs uv (texture coordinates)")
    camera = avatar.camera
    if camera is not None and (len(camera) != 6 or not np.isfinite(camera).all()
                               or min(camera[1], camera[4], camera[5]) <= 0):
        raise ValueError("camera must be (fx, fy, cx, cy, width, height) with fy, width, height > 0")
    return GltfAvatar(vertices, faces, uv, indices, weights, names, parents, heads, bones, times,
                      None if png is None else bytes(png), camera, str(avatar.name))


def _array(name: str, value, dtype, shape: tuple) -> np.ndarray:
    """`value` as an array of `dtype` and `shape` (None: any length); finite; else ValueError."""
    array = np.asarray(value)
    if array.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, array.shape)):
        wanted = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {array.shape}")
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numeric, got {array.dtype}")
    if np.dtype(dtype).kind == "i" and array.dtype.kind == "f" and (array != np.round(array)).any():
        raise ValueError(f"{name} must be integers")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array.astype(dtype)


def _check_tree(parents: np.ndarray) -> None:
    """ValueError unless `parents` is a forest: indices in [−1, J) and no cycles."""
    if ((parents < -1) | (parents >= len(parents))).any():
        raise ValueError(f"joint_parents must lie in [-1, {len(parents)})")
    count = len(parents)
    up = np.append(np.where(parents < 0, count, parents), count)  # one step up; `count`: above the roots
    for _ in range(int(np.ceil(np.log2(count + 1))) + 1):  # pointer jumping: 2, 4, 8, … steps up at once
        up = up[up]
    if (up[:count] != count).any():  # some chain still inside the tree after more than J steps: a cycle
        raise ValueError("joint_parents must not contain cycles")


def _check_rigid(bones: np.ndarray) -> None:
    rotations = bones[..., :3, :3]
    gram = np.einsum("...ki,...kj->...ij", rotations, rotations)
    bottom = np.abs(bones[..., 3, :] - [0, 0, 0, 1]).max(initial=0)
    if np.abs(gram - np.eye(3)).max(initial=0) > _RIGID_TOLERANCE or bottom > _RIGID_TOLERANCE:
        raise ValueError("bone_transforms must be rigid (rotation + translation) 4×4 matrices")
    if (np.linalg.det(rotations) <= 0).any():
        raise ValueError("bone_transforms must not mirror (rotation determinant must be +1)")


def _mesh_json(a: GltfAvatar, blob: _Blob) -> dict:
    positions = a.vertices.astype(np.float32)
    attributes = {"POSITION": blob.add(positions, "VEC3", _ARRAY_BUFFER, bounds=True),
                  "NORMAL": blob.add(vertex_normals(a.vertices, a.faces), "VEC3", _ARRAY_BUFFER)}
    if a.uv is not None:
        flipped = np.column_stack([a.uv[:, 0], 1.0 - a.uv[:, 1]]).astype(np.float32)
        attributes["TEXCOORD_0"] = blob.add(flipped, "VEC2", _ARRAY_BUFFER)
    indices, weights = skin_weights(a.joint_indices, a.joint_weights)
    joint_type = np.uint8 if len(a.joint_names) <= 255 else np.uint16
    attributes["JOINTS_0"] = blob.add(indices.astype(joint_type), "VEC4", _ARRAY_BUFFER)
    attributes["WEIGHTS_0"] = blob.add(weights, "VEC4", _ARRAY_BUFFER)
    index_type = np.uint16 if len(a.vertices) < 65535 else np.uint32  # 65535 is the restart index
    flat = a.faces.reshape(-1).astype(index_type)
    view = blob.view(flat.tobytes(), _ELEMENT_ARRAY_BUFFER)
    primitive = {"attributes": attributes, "indices": blob.accessor(view, index_type, "SCALAR", len(flat)),
                 "material": 0, "mode": 4}
    return {"name": a.name, "primitives": [primitive]}


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) float32 unit normals: area-weighted sums of the faces' normals (unused vertices: +z)."""
    corners = vertices[faces]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # length 2·area
    sums = np.zeros((len(vertices), 3))
    for axis in range(3):
        sums[:, axis] = np.bincount(faces.reshape(-1), np.repeat(face_normals[:, axis], 3), len(vertices))
    length = np.linalg.norm(sums, axis=1)
    normals = np.where(length[:, None] > 1e-20, sums / np.maximum(length, 1e-300)[:, None], [0.0, 0.0, 1.0])
    normals = normals.astype(np.float32)
    return normals / np.linalg.norm(normals.astype(np.float64), axis=1).astype(np.float32)[:, None]


def skin_weights(indices: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """glTF-clean (V, 4) joints and float32 weights: repeated joints of a vertex merged into their first slot,
    zero-weight slots pointing at joint 0, rows summing to 1 in float32 (the rounding put on the heaviest)."""
    weights = np.clip(weights, 0.0, None)
    same = indices[:, :, None] == indices[:, None, :]  # (V, 4, 4): slot a and slot b name the same joint
    first = ~np.tril(same, -1).any(2)  # no earlier slot names this joint
    merged = np.where(first, (same * weights[:, None, :]).sum(2), 0.0)
    merged /= merged.sum(1, keepdims=True)
    single = merged.astype(np.float32)
    heaviest = single.argmax(1)
    rows = np.arange(len(single))
    residual = 1.0 - single.astype(np.float64).sum(1)
    single[rows, heaviest] = (single[rows, heaviest].astype(np.float64) + residual).astype(np.float32)
    return np.where(single > 0, indices, 0), single


def _joint_nodes(names: tuple[str, ...], parents: np.ndarray, heads: np.ndarray) -> list[dict]:
    """One node per joint: its name, rest translation relative to its parent's head, children."""
    local = heads - np.where(parents[:, None] >= 0, heads[np.maximum(parents, 0)], 0.0)
    nodes = [{"name": name, "translation": local[j].tolist()} for j, name in enumerate(names)]
    for j, parent in enumerate(parents.tolist()):
        if parent >= 0:
            nodes[parent].setdefault("children", []).append(j)
    return nodes


def _animation_json(a: GltfAvatar, blob: _Blob) -> dict:
    translations, rotations = joint_local_trs(a.bone_transforms, a.rest_heads, a.joint_parents)
    keys, joints = len(a.times), len(a.joint_names)
    times = a.times.astype(np.float32)
    time_accessor = blob.add(times, "SCALAR", bounds=True)
    translation_view = blob.view(np.ascontiguousarray(translations.transpose(1, 0, 2), np.float32).tobytes())
    rotation_view = blob.view(np.ascontiguousarray(rotations.transpose(1, 0, 2), np.float32).tobytes())
    samplers, channels = [], []
    for j in range(joints):
        for view, kind, size, path in ((translation_view, "VEC3", 12, "translation"),
                                       (rotation_view, "VEC4", 16, "rotation")):
            output = blob.accessor(view, np.float32, kind, keys, offset=j * keys * size)
            channels.append({"sampler": len(samplers), "target": {"node": j, "path": path}})
            samplers.append({"input": time_accessor, "output": output, "interpolation": "LINEAR"})
    return {"name": "video", "channels": channels, "samplers": samplers}


def joint_local_trs(bones: np.ndarray, heads: np.ndarray, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) local translations and (T, J, 4) sign-continuous unit quaternions (x, y, z, w) of the joints:
    L_j = G_parent⁻¹ G_j with G_j = B[:, j] @ Translate(heads[j]), B's rotations orthonormalised."""
    rotation = nearest_rotation(bones[..., :3, :3])
    origin = bones[..., :3, 3] + np.einsum("tjab,jb->tja", rotation, heads)  # G_j's translation
    has_parent = parents >= 0
    parent = np.maximum(parents, 0)
    parent_rotation = np.where(has_parent[None, :, None, None], rotation[:, parent], np.eye(3))
    parent_origin = np.where(has_parent[None, :, None], origin[:, parent], 0.0)
    local_rotation = np.einsum("tjba,tjbc->tjac", parent_rotation, rotation)  # R_pᵀ R_j
    local_translation = np.einsum("tjba,tjb->tja", parent_rotation, origin - parent_origin)
    return local_translation, continuous_quaternions(rotation_to_quaternion(local_rotation))


def nearest_rotation(matrices: np.ndarray) -> np.ndarray:
    """The rotations nearest to (..., 3, 3) matrices (polar factor by SVD, determinant +1)."""
    u, _, vt = np.linalg.svd(matrices)
    sign = np.sign(np.linalg.det(u @ vt))
    u[..., :, 2] *= np.where(sign == 0, 1.0, sign)[..., None]
    return u @ vt


def rotation_to_quaternion(rotations: np.ndarray) -> np.ndarray:
    """(..., 4) unit quaternions (x, y, z, w) of (..., 3, 3) rotations; stable for every angle: built from
    whichever of w, x, y, z is largest (Shepperd's method)."""
    r = rotations
    trace = r[..., 0, 0] + r[..., 1, 1] + r[..., 2, 2]
    # 4·q_k² for k = x, y, z, w
    squares = np.stack([1 + 2 * r[..., 0, 0] - trace, 1 + 2 * r[..., 1, 1] - trace,
                        1 + 2 * r[..., 2, 2] - trace, 1 + trace], -1)
    yz, zy = r[..., 1, 2], r[..., 2, 1]
    zx, xz = r[..., 2, 0], r[..., 0, 2]
    xy, yx = r[..., 0, 1], r[..., 1, 0]
    # row k: 4·q_k·(x, y, z, w), each a different combination of the matrix entries
    candidates = np.stack([
        np.stack([squares[..., 0], xy + yx, zx + xz, zy - yz], -1),
        np.stack([xy + yx, squares[..., 1], yz + zy, xz - zx], -1),
        np.stack([zx + xz, yz + zy, squares[..., 2], yx - xy], -1),
        np.stack([zy - yz, xz - zx, yx - xy, squares[..., 3]], -1),
    ], -2)
    best = squares.argmax(-1)[..., None, None]
    quaternion = np.take_along_axis(candidates, best, -2)[..., 0, :]
    return quaternion / np.linalg.norm(quaternion, axis=-1, keepdims=True)


def continuous_quaternions(quaternions: np.ndarray) -> np.ndarray:
    """(T, ...) quaternions with signs flipped so each key is on the same side as the one before it (and the
    first has w ≥ 0): LINEAR interpolation then takes the short way."""
    first = np.where(quaternions[:1, ..., 3:] < 0, -1.0, 1.0)
    steps = np.where((quaternions[1:] * quaternions[:-1]).sum(-1, keepdims=True) < 0, -1.0, 1.0)
    return quaternions * np.cumprod(np.concatenate([first, steps]), axis=0)


def _camera_json(camera: tuple) -> dict:
    _, fy, _, _, width, height = camera
    return {"name": "video camera", "type": "perspective",
            "perspective": {"yfov": float(2 * np.arctan(height / (2 * fy))), "aspectRatio": width / height,
                            "znear": 0.01, "zfar": 100.0}}


def _material_json(png: bytes | None, blob: _Blob) -> dict:
    """The material (and, textured, its texture, image and sampler) as top-level glTF entries."""
    pbr = {"metallicFactor": 0.0, "roughnessFactor": 1.0}
    entries = {"materials": [{"name": "skin", "pbrMetallicRoughness": pbr, "doubleSided": False}]}
    if png is None:
        pbr["baseColorFactor"] = _LIGHT_GREY
        return entries
    pbr["baseColorTexture"] = {"index": 0}
    entries["images"] = [{"bufferView": blob.view(png), "mimeType": "image/png"}]
    entries["samplers"] = [{"magFilter": _LINEAR, "minFilter": _LINEAR_MIPMAP_LINEAR, "wrapS": _REPEAT,
                            "wrapT": _CLAMP_TO_EDGE}]
    entries["textures"] = [{"sampler": 0, "source": 0}]
    return entries


def _glb_container(document: dict, binary: bytes) -> bytes:
    """The GLB header, the JSON chunk (space-padded) and the BIN chunk (zero-padded)."""
    text = json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join([struct.pack("<4sII", b"glTF", 2, total), struct.pack("<I4s", len(text), b"JSON"), text,
                     struct.pack("<I4s", len(binary), b"BIN\0"), binary])
