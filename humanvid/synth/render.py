"""Synthetic scenes of clothed people: appearance, props, backgrounds, random views (trimesh + embreex).

``render`` ray casts the person (and a prop) with :mod:`humanvid.render.raycast`,
interpolates per-vertex colour, labels and normals with barycentrics, applies
the per-label procedural textures, shades with :mod:`humanvid.render.shading`
(Lambert + ambient, optional shadow rays) and composites over a background.
``render_random`` draws camera, light and background from a
``numpy.random.Generator``, so a sample is a pure function of its seed.

Reuse one ``trimesh.Trimesh`` for several views: its ray-tracing structure is
built on the first cast and cached on the mesh (see :mod:`humanvid.render.raycast`).
For a clip, ``sample_view`` once (with the points of all frames) and
``render_view`` each frame: the camera, light and background stay put.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import trimesh
from scipy import ndimage

from humanvid.camera import Camera
from humanvid.render.raycast import RayHits, cast, hit_normals, interpolate
from humanvid.render.shading import Lighting, shade, unshadowed
from humanvid.synth.backgrounds import BackgroundImages, random_background
from humanvid.synth.camera import ViewRanges, sample_camera
from humanvid.synth.props import Prop
from humanvid.synth.shading import random_lighting
from humanvid.synth.textures import Logo, Pattern, apply_pattern


@dataclass
class Appearance:
    """What a clothed mesh looks like.

    vertex_colors: (V, 3) base albedo in [0, 1] (float) or 0..255 (uint8).
    vertex_labels: (V,) int surface label (skin, garment id, hair — the generator's convention).
    patterns: label → texture; labels without one keep their plain vertex colour.
    texture_coords: (V, 3) where textures are evaluated (e.g. the rest-pose position of each
        vertex, so patterns stick to the cloth across a clip); default: the vertex positions.
    """

    vertex_colors: np.ndarray
    vertex_labels: np.ndarray | None = None
    patterns: Mapping[int, Pattern] = field(default_factory=dict)
    texture_coords: np.ndarray | None = None


def appearance_from_materials(labels: np.ndarray, texcoords: np.ndarray | None, materials) -> Appearance:
    """The appearance of a generated clothed mesh: per label, the material's base colour and pattern.

    labels: (V,) index into ``materials``; texcoords: (V, 3) rest-pose coordinates; materials:
    objects with ``color`` (RGB in [0, 1]) and ``pattern`` (``Pattern`` keyword arguments, logos as
    dicts or ``Logo``). The pattern is evaluated per pixel, so it stays sharp at any resolution.
    """
    labels = np.asarray(labels)
    palette = np.array([m.color for m in materials], dtype=np.float64).reshape(-1, 3)
    patterns = {}
    for index, material in enumerate(materials):
        arguments = dict(material.pattern or {"kind": "plain"})
        arguments["logos"] = tuple(l if isinstance(l, Logo) else Logo(**l) for l in arguments.get("logos", ()))
        patterns[index] = Pattern(**arguments)
    return Appearance(palette[labels], labels, patterns, texcoords)


@dataclass
class Rendering:
    """One rendered frame. Empty pixels: mask False, depth 0, normals 0, labels −1."""

    rgb: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool
    depth: np.ndarray  # (H, W) float32 metres along −z of the camera
    normals: np.ndarray  # (H, W, 3) float32 unit normals in the OpenGL camera frame, facing the camera
    labels: np.ndarray  # (H, W) int16 surface label of the nearest vertex
    camera: Camera


def render(
    mesh: trimesh.Trimesh,
    camera: Camera,
    appearance: Appearance,
    lighting: Lighting = Lighting(),
    background: np.ndarray | None = None,
    prop: Prop | None = None,
) -> Rendering:
    """Render ``mesh`` (world coordinates) through ``camera``.

    background: (H, W, 3) uint8; default mid grey. prop: an object in the scene that is not the
    person (humanvid.synth.props): drawn, shadowing and shadowed, but outside the mask and buffers.
    """
    scene = mesh if prop is None else _with_prop(mesh, prop)
    hits = cast(scene, camera)
    mask = (hits.face >= 0) & (hits.face < len(mesh.faces))
    vertices = np.asarray(mesh.vertices)  # trimesh re-validates its caches on every access: read once
    faces = np.asarray(mesh.faces)[hits.face[mask]]  # (P, 3)
    weights = hits.barycentric[mask]  # (P, 3)
    normals_world, normals_cam = hit_normals(mesh, camera, hits, mask)

    colors = np.asarray(appearance.vertex_colors)
    colors = colors[:, :3] / 255.0 if colors.dtype == np.uint8 else colors[:, :3].astype(np.float64)
    albedo = interpolate(colors, faces, weights)
    nearest = faces[np.arange(len(faces)), np.argmax(weights, axis=1)]
    labels = np.full(mask.shape, -1, dtype=np.int16)
    if appearance.vertex_labels is not None:
        point_labels = np.asarray(appearance.vertex_labels)[nearest]
        labels[mask] = point_labels
        coords_source = vertices if appearance.texture_coords is None else appearance.texture_coords
        coords = interpolate(np.asarray(coords_source, dtype=np.float64), faces, weights)
        for label, pattern in appearance.patterns.items():
            selected = point_labels == label
            if np.any(selected):
                albedo[selected] = apply_pattern(pattern, albedo[selected], coords[selected])

    lit = None
    if lighting.shadows and len(faces):
        points = interpolate(vertices, faces, weights)
        lit = unshadowed(scene, points, normals_world, lighting, camera)
    shaded = shade(albedo, normals_cam, lighting, lit)
    if background is None:
        background = np.full((camera.height, camera.width, 3), 128, dtype=np.uint8)
    rgb = np.array(background, dtype=np.uint8, copy=True)
    rgb[mask] = (shaded * 255.0 + 0.5).astype(np.uint8)  # shade() returns values in [0, 1]
    drawn = mask
    if prop is not None:
        on_prop = hits.face >= len(mesh.faces)
        rgb[on_prop] = (_shade_prop(scene, prop, camera, hits, on_prop, lighting) * 255.0 + 0.5).astype(np.uint8)
        drawn = mask | on_prop
    _soften_edges(rgb, drawn)
    normals = np.zeros((camera.height, camera.width, 3), dtype=np.float32)
    normals[mask] = normals_cam
    return Rendering(
        rgb=rgb,
        mask=mask,
        depth=np.where(mask, hits.depth, np.float32(0.0)),
        normals=normals,
        labels=labels,
        camera=camera,
    )


def _with_prop(mesh: trimesh.Trimesh, prop: Prop) -> trimesh.Trimesh:
    """One mesh of the person (faces first, so their indices are kept) and the prop, for ray casting."""
    vertices = np.concatenate([np.asarray(mesh.vertices), prop.vertices])
    faces = np.concatenate([np.asarray(mesh.faces), prop.faces + len(mesh.vertices)])
    return trimesh.Trimesh(vertices, faces, process=False)


def _shade_prop(scene: trimesh.Trimesh, prop: Prop, camera: Camera, hits: RayHits, on_prop: np.ndarray,
                lighting: Lighting) -> np.ndarray:
    """(P, 3) shaded colours of the prop's pixels: flat faces, its pattern at the world points, shadows."""
    rows, cols = np.nonzero(on_prop)
    directions = camera.pixel_rays(rows, cols) @ camera.rotation  # z = −1 in the camera frame: scaled by depth
    points = camera.position + directions * hits.depth[rows, cols, None]
    normals_world = np.asarray(scene.face_normals)[hits.face[rows, cols]]
    normals_world = normals_world * np.where(np.einsum("ij,ij->i", normals_world, directions) > 0, -1.0, 1.0)[:, None]
    base = np.broadcast_to(np.asarray(prop.color, dtype=np.float64), (len(rows), 3))
    albedo = apply_pattern(prop.pattern, base, points)
    lit = unshadowed(scene, points, normals_world, lighting, camera) if lighting.shadows else None
    return shade(albedo, normals_world @ camera.rotation.T, lighting, lit)


@dataclass
class View:
    """Everything random about a shot except the person: camera, light, background, sensor noise.

    Sample one per clip and render every frame with it for a static camera.
    """

    camera: Camera
    lighting: Lighting
    background: np.ndarray  # (H, W, 3) uint8
    noise_sigma: float  # grey levels of Gaussian sensor noise
    noise_rng: np.random.Generator


def sample_view(
    rng: np.random.Generator,
    points: np.ndarray,
    images: BackgroundImages | None = None,
    ranges: ViewRanges = ViewRanges(),
    up: np.ndarray = (0.0, 0.0, 1.0),
) -> View:
    """A random view of a person standing along ``up`` on the floor under their lowest point.

    points: (N, 3) world points of the person — for a clip, of all its frames, so the person
    stays in the frame throughout. Deterministic in ``rng``.
    """
    camera_rng, light_rng, background_rng, noise_rng = rng.spawn(4)
    points = np.asarray(points, dtype=np.float64)
    points = points[:: max(1, len(points) // 20000)]
    up = np.asarray(up, dtype=np.float64)
    heights = points @ up
    floor = float(heights.min())
    camera = sample_camera(camera_rng, points, ranges, up=up, floor=floor)
    feet = points[heights < floor + 0.06]
    background = random_background(background_rng, camera.width, camera.height, images, camera, floor, up, feet)
    sigma = float(noise_rng.uniform(0.5, 3.0)) if noise_rng.random() < 0.5 else 0.0
    return View(camera, random_lighting(light_rng), background, sigma, noise_rng)


def render_view(mesh: trimesh.Trimesh, appearance: Appearance, view: View, noise: bool = True,
                prop: Prop | None = None) -> Rendering:
    """Render ``mesh`` (and ``prop``) as seen in ``view``; the sensor noise draws from the view's generator."""
    rendering = render(mesh, view.camera, appearance, view.lighting, view.background, prop)
    if noise and view.noise_sigma > 0:
        grain = view.noise_rng.standard_normal(size=rendering.rgb.shape, dtype=np.float32)
        grain *= np.float32(view.noise_sigma)
        grain += rendering.rgb
        grain += np.float32(0.5)
        np.clip(grain, 0, 255, out=grain)
        rendering.rgb = grain.astype(np.uint8)
    return rendering


def render_random(
    mesh: trimesh.Trimesh,
    appearance: Appearance,
    rng: np.random.Generator,
    images: BackgroundImages | None = None,
    ranges: ViewRanges = ViewRanges(),
    up: np.ndarray = (0.0, 0.0, 1.0),
    noise: bool = True,
) -> Rendering:
    """One random view of ``mesh`` with random light, background and mild sensor noise;
    deterministic in ``rng``."""
    return render_view(mesh, appearance, sample_view(rng, np.asarray(mesh.vertices), images, ranges, up), noise)


def _soften_edges(rgb: np.ndarray, mask: np.ndarray) -> None:
    """Cheap anti-aliasing, in place: a 3×3 box filter on the pixels along the silhouette. rgb: (H, W, 3) uint8."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1 = max(rows[0] - 2, 0), rows[-1] + 3
    c0, c1 = max(cols[0] - 2, 0), cols[-1] + 3
    window, inside = rgb[r0:r1, c0:c1], mask[r0:r1, c0:c1]
    edge = inside ^ ndimage.binary_erosion(inside) | ndimage.binary_dilation(inside) & ~inside
    blurred = ndimage.uniform_filter(window.astype(np.float32), size=(3, 3, 1))
    window[edge] = (blurred[edge] + 0.5).astype(np.uint8)
