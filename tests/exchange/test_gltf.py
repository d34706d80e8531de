"""The .glb writer: valid for the Khronos validator, loadable by trimesh, and skinning as the input says.

The validator is the npm package gltf-validator, run by tests/tools/validate_gltf.mjs; install it once at the
repository root with ``npm install --prefix .tools --no-save gltf-validator@2.0.0-dev.3.10``.
"""

from __future__ import annotations

import dataclasses
import json
import struct

import cv2
import numpy as np
import pytest
import trimesh

from humanvid.exchange.gltf import GltfAvatar, glb_bytes, rotation_to_quaternion, write_glb
from helpers import validation_report

COMPONENTS = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}
WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def axis_angle(axis, degrees) -> np.ndarray:
    """3×3 rotation (Rodrigues)."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    angle = np.radians(degrees)
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def rigid(rotation=None, translation=(0.0, 0.0, 0.0)) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3] = np.eye(3) if rotation is None else rotation
    matrix[:3, 3] = translation
    return matrix


def chain_avatar(textured: bool = True) -> GltfAvatar:
    """A subdivided cylinder 3 m in front of the camera, skinned to hips → spine → head (stored unsorted)."""
    cylinder = trimesh.creation.cylinder(radius=0.15, height=1.0, sections=16)
    cylinder.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))  # axis z → y
    cylinder = cylinder.subdivide().subdivide()
    vertices = cylinder.vertices + [0.0, 0.0, -3.0]
    names = ("spine", "hips", "head")
    parents = np.array([1, -1, 0])
    heads = np.array([[0.0, 0.0, -3.0], [0.0, -0.4, -3.0], [0.0, 0.3, -3.0]])
    height = cylinder.vertices[:, 1]
    hips = np.clip(-height / 0.4, 0, 1)
    head = np.clip((height - 0.1) / 0.3, 0, 1)
    spine = 1 - hips - head
    # hips split over two slots (merged by the writer), the fourth slot unused
    weights = np.column_stack([hips / 2, spine, head, hips / 2])
    indices = np.tile([1, 0, 2, 1], (len(vertices), 1))
    keys = 4
    bones = np.zeros((keys, 3, 4, 4))
    for t in range(keys):  # forward kinematics: the root yaws all the way round and walks, the spine bends
        local_rotations = [axis_angle([1, 0, 0], 40 * t), axis_angle([0, 1, 0], 100 * t),
                           axis_angle([0, 0, 1], -30 * t + 5)]
        globals_ = {}
        for j in (1, 0, 2):  # parents first
            parent = parents[j]
            if parent >= 0:
                offset = heads[j] - heads[parent]
            else:  # the root also walks
                offset = heads[j] + [0.2 * t, 0.05 * t, 0.0]
            local = rigid(local_rotations[j], offset)
            globals_[j] = (globals_[parent] if parent >= 0 else np.eye(4)) @ local
            bones[t, j] = globals_[j] @ rigid(translation=-heads[j])
    uv = np.column_stack([np.arctan2(vertices[:, 0], vertices[:, 2] + 3) / (2 * np.pi) + 0.5, height + 0.5])
    image = np.zeros((8, 16, 3), np.uint8)
    image[:, :8] = (40, 120, 200)
    png = cv2.imencode(".png", image)[1].tobytes() if textured else None
    return GltfAvatar(vertices, cylinder.faces, uv if textured else None, indices, weights, names, parents,
                      heads, bones, np.array([0.0, 0.5, 1.0, 1.5]), png,
                      (500.0, 510.0, 320.0, 240.0, 640, 480) if textured else None, name="tester")


def forest_avatar() -> GltfAvatar:
    """Untextured, 300 joints in two trees (UNSIGNED_SHORT joints), one key, no camera."""
    base = chain_avatar(textured=False)
    joints = 300
    parents = np.concatenate([[-1, -1], np.arange(joints - 2) % 2])  # every other joint under root 0 or 1
    heads = np.random.default_rng(0).uniform(-1, 1, (joints, 3))
    bones = np.tile(rigid(axis_angle([1, 1, 0], 180), [0, 0.1, -0.2]), (1, joints, 1, 1))
    indices = np.tile([299, 1, 150, 0], (len(base.vertices), 1))
    return dataclasses.replace(base, joint_names=tuple(f"j{j}" for j in range(joints)), joint_parents=parents,
                               rest_heads=heads, bone_transforms=bones, times=np.array([0.25]),
                               joint_indices=indices)


def read_glb(data: bytes) -> tuple[dict, bytes]:
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<I4s", data, 12)
    assert json_type == b"JSON" and json_length % 4 == 0
    document = json.loads(data[20:20 + json_length])
    bin_length, bin_type = struct.unpack_from("<I4s", data, 20 + json_length)
    assert bin_type == b"BIN\0"
    start = 28 + json_length
    return document, data[start:start + bin_length]


def accessor_array(document: dict, binary: bytes, index: int) -> np.ndarray:
    accessor = document["accessors"][index]
    view = document["bufferViews"][accessor["bufferView"]]
    assert view["byteOffset"] % 4 == 0 and "byteStride" not in view
    width = WIDTHS[accessor["type"]]
    return np.frombuffer(binary, COMPONENTS[accessor["componentType"]], accessor["count"] * width,
                         view["byteOffset"] + accessor.get("byteOffset", 0)).reshape(accessor["count"], width)


def quaternion_matrix(q) -> np.ndarray:
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def node_globals(document: dict, binary: bytes, key: int) -> dict[int, np.ndarray]:
    """Every scene node's global matrix at animation key `key`, walking the hierarchy from the scene."""
    animated = {}
    animation = document["animations"][0]
    for channel in animation["channels"]:
        sampler = animation["samplers"][channel["sampler"]]
        target = channel["target"]
        animated[target["node"], target["path"]] = accessor_array(document, binary, sampler["output"])[key]
    result = {}

    def visit(index: int, parent: np.ndarray) -> None:
        node = document["nodes"][index]
        assert "matrix" not in node
        local = np.eye(4)
        rotation = animated.get((index, "rotation"), node.get("rotation", [0, 0, 0, 1]))
        local[:3, :3] = quaternion_matrix(np.asarray(rotation, float)) * node.get("scale", [1, 1, 1])
        local[:3, 3] = animated.get((index, "translation"), node.get("translation", [0, 0, 0]))
        result[index] = parent @ local
        for child in node.get("children", []):
            visit(child, result[index])

    for root in document["scenes"][document["scene"]]["nodes"]:
        visit(root, np.eye(4))
    return result


@pytest.mark.parametrize("make", [chain_avatar, forest_avatar])
def test_validator_finds_no_errors(tmp_path, make):
    path = tmp_path / "person.glb"
    write_glb(path, make())
    issues = validation_report(path)["issues"]
    listed = "\n".join(f"{m['severity']} {m['code']} {m.get('pointer', '')}: {m['message']}"
                       for m in issues["messages"])
    assert issues["numErrors"] == 0, listed
    assert issues["numWarnings"] == 0, listed
    assert not list(tmp_path.glob(".*")), "temporary left behind"


def test_trimesh_loads_the_mesh(tmp_path):
    avatar = chain_avatar()
    write_glb(tmp_path / "person.glb", avatar)
    scene = trimesh.load(tmp_path / "person.glb")
    meshes = list(scene.geometry.values()) if isinstance(scene, trimesh.Scene) else [scene]
    assert len(meshes) == 1
    assert meshes[0].vertices.shape == avatar.vertices.shape
    assert meshes[0].faces.shape == avatar.faces.shape


@pytest.mark.parametrize("make", [chain_avatar, forest_avatar])
def test_skinning_reproduces_the_bone_transforms(make):
    avatar = make()
    document, binary = read_glb(glb_bytes(avatar))
    primitive = document["meshes"][0]["primitives"][0]
    attributes = primitive["attributes"]
    positions = accessor_array(document, binary, attributes["POSITION"]).astype(float)
    joints = accessor_array(document, binary, attributes["JOINTS_0"]).astype(int)
    weights = accessor_array(document, binary, attributes["WEIGHTS_0"]).astype(float)
    assert np.abs(weights.sum(1) - 1).max() < 2e-7
    faces = accessor_array(document, binary, primitive["indices"]).reshape(-1, 3)
    assert np.array_equal(faces, avatar.faces)
    skin = document["skins"][0]
    inverse_binds = accessor_array(document, binary, skin["inverseBindMatrices"]).reshape(-1, 4, 4)
    inverse_binds = inverse_binds.transpose(0, 2, 1).astype(float)  # column-major in the file
    mesh_node = next(n for n in document["nodes"] if "skin" in n)
    assert not {"matrix", "translation", "rotation", "scale"} & set(mesh_node)

    animation = document["animations"][0]
    assert animation["name"] == "video"
    for sampler in animation["samplers"]:
        assert sampler["interpolation"] == "LINEAR"
        assert np.array_equal(accessor_array(document, binary, sampler["input"])[:, 0],
                              avatar.times.astype(np.float32))
        assert document["accessors"][sampler["output"]]["count"] == len(avatar.times)
    assert len(animation["channels"]) == 2 * len(avatar.joint_names)
    for channel in animation["channels"]:
        if channel["target"]["path"] == "rotation":  # unit, and each key on the short way from the last
            keys = accessor_array(document, binary, animation["samplers"][channel["sampler"]]["output"])
            assert np.abs(np.linalg.norm(keys, axis=1) - 1).max() < 1e-6
            assert ((keys[1:] * keys[:-1]).sum(1) >= 0).all()

    for key in range(len(avatar.times)):
        globals_ = node_globals(document, binary, key)
        joint_matrices = np.stack([globals_[n] for n in skin["joints"]]) @ inverse_binds
        homogeneous = np.column_stack([positions, np.ones(len(positions))])
        skinned = np.einsum("vk,vkab,vb->va", weights, joint_matrices[joints], homogeneous)[:, :3]
        bones = avatar.bone_transforms[key][avatar.joint_indices]  # (V, 4, 4, 4)
        rest = np.column_stack([avatar.vertices, np.ones(len(avatar.vertices))])
        expected = np.einsum("vk,vkab,vb->va", avatar.joint_weights, bones, rest)[:, :3]
        assert np.abs(skinned - expected).max() < 1e-5, f"key {key}"


def test_uv_flip_material_and_camera():
    avatar = chain_avatar()
    document, binary = read_glb(glb_bytes(avatar))
    attributes = document["meshes"][0]["primitives"][0]["attributes"]
    uv = accessor_array(document, binary, attributes["TEXCOORD_0"])
    assert np.allclose(uv[:, 0], avatar.uv[:, 0], atol=1e-7)
    assert np.allclose(uv[:, 1], 1 - avatar.uv[:, 1], atol=1e-7)
    image = document["images"][0]
    view = document["bufferViews"][image["bufferView"]]
    assert binary[view["byteOffset"]:view["byteOffset"] + view["byteLength"]] == avatar.texture_png
    pbr = document["materials"][0]["pbrMetallicRoughness"]
    assert pbr["metallicFactor"] == 0 and pbr["roughnessFactor"] == 1 and pbr["baseColorTexture"]["index"] == 0
    camera_node = next(n for n in document["nodes"] if n.get("name") == "video camera")
    assert not {"matrix", "translation", "rotation", "scale"} & set(camera_node)
    perspective = document["cameras"][camera_node["camera"]]["perspective"]
    assert np.isclose(perspective["yfov"], 2 * np.arctan(480 / (2 * 510.0)))
    assert np.isclose(perspective["aspectRatio"], 640 / 480)

    plain, _ = read_glb(glb_bytes(forest_avatar()))
    assert "TEXCOORD_0" not in plain["meshes"][0]["primitives"][0]["attributes"]
    assert "baseColorFactor" in plain["materials"][0]["pbrMetallicRoughness"] and "cameras" not in plain


def test_rotation_to_quaternion_every_angle():
    rng = np.random.default_rng(5)
    axes = rng.normal(size=(400, 3))
    angles = np.concatenate([rng.uniform(0, 360, 300), [0, 180, 180, 180, 179.9999, 360] * 10,
                             np.full(40, 90.0)])
    rotations = np.stack([axis_angle(a, d) for a, d in zip(axes, angles)])
    rotations[-40:-30] = np.diag([1, -1, -1])  # exact half turns about the axes
    rotations[-30:-20] = np.diag([-1, 1, -1])
    rotations[-20:-10] = np.diag([-1, -1, 1])
    quaternions = rotation_to_quaternion(rotations)
    assert np.allclose(np.linalg.norm(quaternions, axis=1), 1)
    assert np.abs(np.stack([quaternion_matrix(q) for q in quaternions]) - rotations).max() < 1e-9


@pytest.mark.parametrize("change, message", [
    (lambda a: {"joint_weights": a.joint_weights * 0.9}, "sum to 1"),
    (lambda a: {"joint_indices": a.joint_indices[:, :3]}, "joint_indices must have shape"),
    (lambda a: {"joint_indices": a.joint_indices + 5}, "joint_indices must lie"),
    (lambda a: {"bone_transforms": a.bone_transforms[:, :2]}, "bone_transforms must have shape"),
    (lambda a: {"bone_transforms": a.bone_transforms * 1.1}, "rigid"),
    (lambda a: {"times": a.times[::-1]}, "increasing"),
    (lambda a: {"times": a.times[:2]}, "times must have shape"),
    (lambda a: {"joint_parents": np.array([2, -1, 0])}, "cycles"),
    (lambda a: {"uv": None}, "needs uv"),
    (lambda a: {"texture_png": b"GIF89a"}, "PNG"),
    (lambda a: {"faces": a.faces + len(a.vertices)}, "faces must index"),
    (lambda a: {"vertices": a.vertices * np.nan}, "vertices must be finite"),
])
def test_bad_input_is_refused(change, message):
    avatar = chain_avatar()
    with pytest.raises(ValueError, match=message):
        glb_bytes(dataclasses.replace(avatar, **change(avatar)))
