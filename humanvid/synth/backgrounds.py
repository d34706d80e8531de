"""Random backgrounds for synthetic frames: gradients, noise, shapes, tiles, bundled images, a floor.

Images come only from files that the project's dependencies install (nothing
is downloaded): matplotlib's sample data (matplotlib comes with mediapipe) and
warp's example assets (warp comes with anny). Photos of people are left out,
so MediaPipe never finds a second person. A missing file is skipped.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy.spatial import cKDTree

from humanvid.camera import Camera
from humanvid.synth.textures import fbm

# (package, path inside the package, regions to use as (x0, y0, x1, y1) fractions or None for all)
# of pictures without people. The cat photo's face is left out: MediaPipe takes it for a person.
BUNDLED_PICTURES = (
    ("matplotlib", "mpl-data/sample_data/Minduka_Present_Blue_Pack.png", None),
    ("matplotlib", "mpl-data/sample_data/logo2.png", None),
    ("warp", "examples/assets/pixel.jpg", ((0.0, 0.0, 1.0, 0.22), (0.0, 0.62, 1.0, 1.0), (0.0, 0.0, 0.22, 1.0))),
    ("warp", "examples/assets/nvidia_logo.png", None),
)
# (package, path, array name) of height fields, shown through random colour maps. (The MRI slice
# s1045.ima.gz is left out: it is a head in profile.)
BUNDLED_FIELDS = (
    ("matplotlib", "mpl-data/sample_data/jacksboro_fault_dem.npz", "elevation"),
    ("matplotlib", "mpl-data/sample_data/topobathy.npz", "topo"),
    ("matplotlib", "mpl-data/sample_data/axes_grid/bivariate_normal.npy", None),
)
KINDS = ("gradient", "noise", "shapes", "tiles", "picture", "field")
KIND_WEIGHTS = (0.15, 0.15, 0.12, 0.15, 0.25, 0.18)  # busy shapes are rarer than in real footage


@dataclass
class BackgroundImages:
    """Pictures (H×W×3 uint8) and height fields (H×W float in [0, 1]) to draw backgrounds from."""

    pictures: list[np.ndarray] = field(default_factory=list)
    fields: list[np.ndarray] = field(default_factory=list)


def load_bundled_images() -> BackgroundImages:
    """The pictures and height fields that ship inside installed packages (missing ones skipped)."""
    images = BackgroundImages()
    for package, relative, regions in BUNDLED_PICTURES:
        path = _package_file(package, relative)
        if path is None:
            continue
        try:
            with Image.open(path) as image:
                image = image.convert("RGBA")
                flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
                flat.alpha_composite(image)
                picture = np.asarray(flat.convert("RGB"))
        except OSError:
            continue
        h, w = picture.shape[:2]
        for x0, y0, x1, y1 in regions or ((0.0, 0.0, 1.0, 1.0),):
            images.pictures.append(picture[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)])
    for package, relative, key in BUNDLED_FIELDS:
        path = _package_file(package, relative)
        if path is None:
            continue
        try:
            if key is None:
                data = np.load(path)
            else:
                data = np.load(path)[key]
        except (OSError, ValueError, KeyError):
            continue
        data = np.asarray(data, dtype=np.float64)
        span = np.ptp(data)
        if data.ndim == 2 and span > 0:
            images.fields.append((data - data.min()) / span)
    return images


def _fade(value: np.ndarray, mean: float, footprint: np.ndarray, detail: float) -> np.ndarray:
    """Blend a pattern ``value`` towards its ``mean`` where the pixel ``footprint`` [m] exceeds its ``detail`` [m]."""
    keep = np.clip(1.5 - footprint / detail, 0.0, 1.0)
    return mean + (value - mean) * keep


def _package_file(package: str, relative: str) -> Path | None:
    """Path of a data file inside an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / relative
        if path.is_file():
            return path
    return None


def random_background(
    rng: np.random.Generator,
    width: int,
    height: int,
    images: BackgroundImages | None = None,
    camera: Camera | None = None,
    floor: float | None = None,
    up: np.ndarray = (0.0, 0.0, 1.0),
    contact_points: np.ndarray | None = None,
) -> np.ndarray:
    """A random (height, width, 3) uint8 background.

    With ``camera`` and ``floor`` (the floor's height along ``up``), about half
    of the backgrounds get a textured floor plane seen through that camera, so
    the person stands on something; the rest of the frame is a backdrop.
    contact_points: (K, 3) world points of the person near the floor (the feet);
    the floor gets a soft shadow under them.
    """
    available = {"picture": bool(images and images.pictures), "field": bool(images and images.fields)}
    weights = np.array([w if available.get(k, True) else 0.0 for k, w in zip(KINDS, KIND_WEIGHTS)])
    backdrop = _backdrop(rng, KINDS[rng.choice(len(KINDS), p=weights / weights.sum())], width, height, images)
    if rng.random() < 0.2:  # a few shapes on top of anything
        backdrop = _draw_shapes(rng, Image.fromarray(backdrop), int(rng.integers(2, 8)))
    if camera is not None and floor is not None and rng.random() < 0.5:
        backdrop = _add_floor(rng, backdrop, camera, floor, np.asarray(up, dtype=np.float64), contact_points)
    if rng.random() < 0.5:  # out of focus
        return _defocus(backdrop, float(rng.uniform(0.5, 4.0)) * max(width, height) / 1000)
    return backdrop


def _defocus(image: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur; strong blurs run at half resolution (same look, a quarter of the work)."""
    picture = Image.fromarray(image)
    if radius < 1.5:
        return np.asarray(picture.filter(ImageFilter.GaussianBlur(radius)), dtype=np.uint8)
    width, height = picture.size
    small = picture.resize((max(1, width // 2), max(1, height // 2)), Image.BILINEAR)
    small = small.filter(ImageFilter.GaussianBlur(radius / 2))
    return np.asarray(small.resize((width, height), Image.BILINEAR), dtype=np.uint8)


def _backdrop(rng: np.random.Generator, kind: str, width: int, height: int, images: BackgroundImages | None) -> np.ndarray:
    if kind == "gradient":
        return _gradient(rng, width, height)
    if kind == "noise":
        value = _noise_field(rng, width, height, scale=float(rng.uniform(0.05, 0.4)))
        return _colorize(rng, value)
    if kind == "shapes":
        return _draw_shapes(rng, Image.fromarray(_gradient(rng, width, height)), int(rng.integers(5, 30)))
    if kind == "tiles":
        return _tiles(rng, width, height)
    if kind == "picture":
        return _picture(rng, images.pictures[rng.integers(len(images.pictures))], width, height)
    if kind == "field":
        data = images.fields[rng.integers(len(images.fields))]
        return _picture(rng, _colorize(rng, data), width, height)
    raise ValueError(f"unknown background kind {kind!r}")


def _random_color(rng: np.random.Generator) -> np.ndarray:
    """(3,) RGB in 0..255, mostly muted like real surroundings: low saturation is likelier."""
    hue = rng.uniform(0.0, 1.0)
    saturation = rng.beta(1.2, 2.5)
    value = rng.uniform(0.15, 0.95)
    channel = np.clip(np.abs((hue * 6.0 + np.array([0.0, 4.0, 2.0])) % 6.0 - 3.0) - 1.0, 0.0, 1.0)  # pure hue
    return 255.0 * value * (1.0 - saturation + saturation * channel)


def _gradient(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (xs * np.cos(angle) + ys * np.sin(angle)) / max(width, height)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    stops = [_random_color(rng) for _ in range(int(rng.integers(2, 4)))]
    positions = np.linspace(0.0, 1.0, len(stops))
    out = np.stack([np.interp(t, positions, [c[i] for c in stops]) for i in range(3)], axis=-1)
    noise = rng.standard_normal(size=(height, width, 1), dtype=np.float32) * np.float32(rng.uniform(0.0, 6.0))
    return np.clip(out + noise, 0, 255).astype(np.uint8)


def _noise_field(rng: np.random.Generator, width: int, height: int, scale: float) -> np.ndarray:
    """(height, width) smooth noise in [0, 1]; features about ``scale`` × the frame size."""
    small_w, small_h = max(2, width // 8), max(2, height // 8)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float64)
    step = 1.0 / (scale * max(small_w, small_h))
    points = np.stack([xs.ravel() * step, ys.ravel() * step, np.full(xs.size, rng.uniform(0, 100))], axis=1)
    value = fbm(points, int(rng.integers(2**31)), 4).reshape(small_h, small_w)
    value = (value - value.min()) / max(float(np.ptp(value)), 1e-6)
    image = Image.fromarray((value * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)
    return np.asarray(image, dtype=np.float64) / 255.0


def _colorize(rng: np.random.Generator, value: np.ndarray) -> np.ndarray:
    """Map (H, W) values in [0, 1] through a random 3–5 colour palette → (H, W, 3) uint8."""
    stops = [_random_color(rng) for _ in range(int(rng.integers(3, 6)))]
    positions = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, size=len(stops) - 2)]))
    channels = [np.interp(value, positions, [c[i] for c in stops]) for i in range(3)]
    return np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)


def _draw_shapes(rng: np.random.Generator, image: Image.Image, count: int) -> np.ndarray:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    size = max(width, height)
    for _ in range(count):
        color = tuple(int(c) for c in _random_color(rng))
        x, y = rng.uniform(-0.1, 1.1) * width, rng.uniform(-0.1, 1.1) * height
        r = rng.uniform(0.02, 0.25) * size
        kind = rng.integers(4)
        if kind == 0:
            draw.ellipse([x - r, y - r * rng.uniform(0.5, 1.5), x + r, y + r], fill=color)
        elif kind == 1:
            draw.rectangle([x - r, y - r * rng.uniform(0.3, 2.0), x + r * rng.uniform(0.3, 2.0), y + r], fill=color)
        elif kind == 2:
            angles = np.sort(rng.uniform(0, 2 * np.pi, size=int(rng.integers(3, 7))))
            draw.polygon([(x + r * np.cos(a), y + r * np.sin(a)) for a in angles], fill=color)
        else:
            x2, y2 = x + rng.normal() * r * 2, y + rng.normal() * r * 2
            draw.line([x, y, x2, y2], fill=color, width=int(max(1, rng.uniform(0.003, 0.02) * size)))
    return np.asarray(image, dtype=np.uint8)


def _tiles(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Stripes, checks or a brick-like wall with grout lines."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    period = rng.uniform(0.02, 0.2) * max(width, height)
    a, b = _random_color(rng), _random_color(rng)
    kind = rng.integers(3)
    if kind == 0:
        angle = rng.uniform(0, np.pi)
        t = ((xs * np.cos(angle) + ys * np.sin(angle)) / period % 1.0 < rng.uniform(0.2, 0.8)).astype(np.float64)
    elif kind == 1:
        t = ((np.floor(xs / period) + np.floor(ys / period)) % 2).astype(np.float64)
    else:
        rows = np.floor(ys / (0.5 * period))
        shifted = xs + (rows % 2) * 0.5 * period
        grout = ((ys % (0.5 * period)) < 0.06 * period) | ((shifted % period) < 0.06 * period)
        t = grout.astype(np.float64)
    out = a + (b - a) * t[..., None]
    shade = 1.0 + 0.15 * (_noise_field(rng, width, height, 0.2) - 0.5)
    return np.clip(out * shade[..., None], 0, 255).astype(np.uint8)


def _picture(rng: np.random.Generator, picture: np.ndarray, width: int, height: int) -> np.ndarray:
    """A random crop of ``picture`` scaled to fill the frame, with flips and colour jitter."""
    ph, pw = picture.shape[:2]
    aspect = width / height
    crop_h = rng.uniform(0.5, 1.0) * min(ph, pw / aspect)
    crop_w = crop_h * aspect
    x0, y0 = rng.uniform(0, pw - crop_w), rng.uniform(0, ph - crop_h)
    image = Image.fromarray(picture).resize((width, height), Image.BILINEAR, box=(x0, y0, x0 + crop_w, y0 + crop_h))
    out = np.asarray(image, dtype=np.float64)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    gain = rng.uniform(0.7, 1.2, size=3)
    return np.clip(out * gain + rng.uniform(-20, 20), 0, 255).astype(np.uint8)


def _add_floor(rng: np.random.Generator, backdrop: np.ndarray, camera: Camera, floor: float, up: np.ndarray,
               contact_points: np.ndarray | None = None) -> np.ndarray:
    """Paint a textured floor plane (tiles, planks, or noise such as grass/asphalt) below the horizon,
    with a soft contact shadow around ``contact_points`` (K, 3).

    The floor is traced at half resolution and scaled up (it is background, often blurred);
    patterns fade to their mean where a pixel covers more than their detail (no moiré).
    """
    height, width = backdrop.shape[:2]
    rows, cols = np.mgrid[0:height:2, 0:width:2]
    small_h, small_w = rows.shape
    directions = camera.pixel_rays(rows.ravel() + 0.5, cols.ravel() + 0.5) @ camera.rotation  # world directions
    origin = camera.position
    along_up = directions @ up
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (floor - origin @ up) / along_up
    hit = (along_up < -1e-6) & (t > 0)
    if not np.any(hit):
        return backdrop
    points = origin + directions[hit] * t[hit, None]
    e1 = np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    shift = rng.uniform(0, 10, size=2)
    x, y = points @ e1 + shift[0], points @ e2 + shift[1]  # floor coordinates [m]
    footprint = t[hit] * 2.0 / camera.fy / np.maximum(-along_up[hit] / np.linalg.norm(directions[hit], axis=1), 0.05)
    a, b = _random_color(rng), _random_color(rng) * 0.5 + 0.5 * _random_color(rng)
    kind = rng.integers(3)
    size = rng.uniform(0.2, 1.0)
    if kind == 0:  # tiles with grout, maybe checkered
        grout = (((x % size) < 0.04 * size) | ((y % size) < 0.04 * size)).astype(np.float64)
        value = _fade(grout, 0.08, footprint, 0.04 * size)
        if rng.random() < 0.5:
            checks = ((np.floor(x / size) + np.floor(y / size)) % 2 == 0).astype(np.float64)
            value = np.maximum(value, _fade(checks, 0.5, footprint, size))
    elif kind == 1:  # planks
        plank = np.floor(y / (0.2 * size))
        value = 0.5 + _fade(0.15 * np.sin(x * 40.0 + plank * 7.3), 0.0, footprint, 0.05) + _fade(
            0.1 * (plank % 3), 0.1, footprint, 0.2 * size)
    else:  # grass / asphalt / carpet: a tiling noise texture looked up by floor position
        texture = _noise_field(rng, 256, 256, float(rng.uniform(0.05, 0.3)))
        metres = rng.uniform(1.0, 4.0)  # the texture's period on the floor
        ix = (np.floor(x / metres * 256).astype(np.int64)) % 256
        iy = (np.floor(y / metres * 256).astype(np.int64)) % 256
        value = texture[iy, ix]
    color = a + (b - a) * value[:, None]
    if contact_points is not None and len(contact_points):
        feet = np.stack([contact_points @ e1 + shift[0], contact_points @ e2 + shift[1]], axis=1)
        strength, spread = rng.uniform(0.3, 0.6), rng.uniform(0.08, 0.2)
        lo, hi = feet.min(axis=0) - 4 * spread, feet.max(axis=0) + 4 * spread
        near = np.flatnonzero((x > lo[0]) & (x < hi[0]) & (y > lo[1]) & (y < hi[1]))
        distance, _ = cKDTree(feet).query(np.stack([x[near], y[near]], axis=1))
        color[near] *= (1.0 - strength * np.exp(-np.square(distance / spread)))[:, None]
    small = np.asarray(Image.fromarray(backdrop).resize((small_w, small_h), Image.BILINEAR), dtype=np.float64)
    flat = small.reshape(-1, 3)
    haze = np.clip(t[hit] / rng.uniform(15, 60), 0, 1)[:, None]
    flat[hit] = color * (1 - haze) + flat[hit] * haze
    alpha = np.zeros(small_h * small_w, dtype=np.uint8)
    alpha[hit] = 255
    painted = Image.fromarray(np.clip(flat, 0, 255).reshape(small_h, small_w, 3).astype(np.uint8))
    painted = painted.resize((width, height), Image.BILINEAR)
    alpha_full = Image.fromarray(alpha.reshape(small_h, small_w)).resize((width, height), Image.BILINEAR)
    return np.asarray(Image.composite(painted, Image.fromarray(backdrop), alpha_full), dtype=np.uint8)
