"""What people do on video: a library of random poses and short animated clips for Anny.

Poses are written in anatomical angles per compact bone (``humanvid.body.anny_pose``):
(bend, side, twist) in degrees, with the LEFT side's meaning used for both sides
(bend + = extension at the shoulder and hip, flexion at the elbow, knee and spine;
side + = abduction; twist + = internal rotation, as measured by humanvid.body), so a symmetric pose reads symmetric;
the right side is mirrored when converted. Angles are clamped to the joint limits
and turned into Anny ``local-ref`` axis-angles with the joint frames. Anny's rest
pose is an A-pose (arms ~45° down, elbows slightly bent).

Turning side-on or back-on is the camera's business (the renderer samples the
camera yaw all around); clips carry a global yaw of their own where the person turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from humanvid.body.anny_pose import COMPACT_BONES, joint_frames, joint_limits_deg

# bone name → (bend, side, twist) degrees; "root" → (forward pitch, roll, yaw) of the whole body.
Angles = dict[str, tuple[float, float, float]]


@dataclass(frozen=True)
class PoseSpace:
    """Converts anatomical angles into Anny axis-angles. frames: (19, 3, 3); bone_ids: (19,)."""

    frames: np.ndarray
    bone_ids: np.ndarray
    root_id: int
    bone_count: int
    lower: np.ndarray  # (19, 3) degrees
    upper: np.ndarray  # (19, 3) degrees

    @classmethod
    def from_rig(cls, rig) -> "PoseSpace":
        import torch

        with torch.no_grad():
            heads = rig.model(phenotype_kwargs=torch.full((1, 6), 0.5, dtype=torch.float64))["rest_bone_heads"][0]
        frames = joint_frames({label: heads[i] for i, label in enumerate(rig.bone_labels)}).numpy()
        limits = joint_limits_deg()
        return cls(
            frames=frames,
            bone_ids=np.array([rig.bone(name) for name in COMPACT_BONES]),
            root_id=rig.bone("root"),
            bone_count=len(rig.bone_labels),
            lower=np.array([[axis[0] for axis in limits[b]] for b in COMPACT_BONES]),
            upper=np.array([[axis[1] for axis in limits[b]] for b in COMPACT_BONES]),
        )

    def compact(self, angles: Angles) -> np.ndarray:
        """Anatomical angles → (19, 3) anatomical components in the model's own (mirrored) convention."""
        values = np.zeros((len(COMPACT_BONES), 3))
        for index, bone in enumerate(COMPACT_BONES):
            if bone in angles:
                bend, side, twist = angles[bone]
                if bone.endswith(".R"):
                    side, twist = -side, -twist
                values[index] = (bend, side, twist)
        return np.clip(values, self.lower, self.upper)

    def rotations(self, angles: Angles) -> np.ndarray:
        """Anatomical angles → (J, 3) Anny local-ref axis-angles [rad] for all bones."""
        components = np.radians(self.compact(angles))
        full = np.zeros((self.bone_count, 3))
        full[self.bone_ids] = np.einsum("pij,pj->pi", self.frames, components)
        if "root" in angles:  # whole-body tilt: (forward pitch, roll, yaw) about Anny's x, y, z
            full[self.root_id] = np.radians(np.asarray(angles["root"], dtype=np.float64))
        return full


@dataclass(frozen=True)
class Pose:
    """One random pose: its name, (J, 3) Anny axis-angles and a lift off the floor [m]."""

    name: str
    rotations: np.ndarray
    lift: float = 0.0


@dataclass(frozen=True)
class Clip:
    """An animation: (T, J, 3) axis-angles, (T,) yaw [rad] about the vertical, (T, 3) root offsets [m].

    The offsets' z is a lift above the floor contact (jumps); x, y move the person.
    """

    name: str
    rotations: np.ndarray
    yaw: np.ndarray
    offsets: np.ndarray


def _soft_positive(x, softness: float = 0.25):
    """A smooth max(0, x) for x in [−1, 1] (no kink, so joint trajectories stay smooth)."""
    return 0.5 * (x + np.sqrt(x * x + softness * softness)) - 0.5 * softness


def _both(bone: str, bend: float = 0.0, side: float = 0.0, twist: float = 0.0) -> Angles:
    return {f"{bone}.L": (bend, side, twist), f"{bone}.R": (bend, side, twist)}


def _merge(*parts: Angles) -> Angles:
    out: Angles = {}
    for part in parts:
        out.update(part)
    return out


def _spine(bend: float = 0.0, side: float = 0.0, twist: float = 0.0) -> Angles:
    """Spread a trunk motion over the three spine joints."""
    return {name: (bend * w, side * w, twist * w) for name, w in (("spine04", 0.4), ("spine02", 0.35), ("spine01", 0.25))}


def _jitter(rng: np.random.Generator, angles: Angles, degrees: float) -> Angles:
    """Add Gaussian noise to every listed angle, and a little to the spine, neck and head."""
    out = {bone: tuple(float(v) for v in np.asarray(value) + rng.normal(0.0, degrees, 3) * (1.0, 0.7, 0.5))
           for bone, value in angles.items()}
    for bone in ("neck01", "head"):
        base = np.asarray(out.get(bone, (0.0, 0.0, 0.0)))
        out[bone] = tuple(float(v) for v in base + rng.normal(0.0, 6.0, 3))
    return out


# ---------------------------------------------------------------- parametric motions (phase in [0, 1))


def walk(phase: float, stride: float = 1.0, arm_swing: float = 1.0) -> Angles:
    """A walk cycle: left heel strike at phase 0."""
    s = np.sin(2 * np.pi * phase)
    c = np.cos(2 * np.pi * phase)
    knee = lambda p: 5 + 55 * _soft_positive(np.sin(2 * np.pi * p - 0.3)) ** 2 + 10 * _soft_positive(-np.sin(2 * np.pi * p))
    return _merge(
        {"upperleg01.L": (-25 * stride * c, 2, 0), "upperleg01.R": (25 * stride * c, 2, 0)},
        {"lowerleg01.L": (stride * knee(phase + 0.5), 0, 0), "lowerleg01.R": (stride * knee(phase), 0, 0)},
        {"foot.L": (5 * s, 0, 0), "foot.R": (-5 * s, 0, 0)},
        {"upperarm01.L": (25 * arm_swing * c, -38, 0), "upperarm01.R": (-25 * arm_swing * c, -38, 0)},
        _both("lowerarm01", 10 + 10 * arm_swing), _spine(5, 0, 5 * c),
    )


def run(phase: float, effort: float = 1.0) -> Angles:
    """A running cycle: knees high, elbows at ~90°, trunk leaning forward."""
    c = np.cos(2 * np.pi * phase)
    knee = lambda p: 20 + 90 * effort * _soft_positive(np.sin(2 * np.pi * p - 0.6))
    return _merge(
        {"upperleg01.L": (-45 * effort * c - 18, 3, 0), "upperleg01.R": (45 * effort * c - 18, 3, 0)},
        {"lowerleg01.L": (knee(phase + 0.5), 0, 0), "lowerleg01.R": (knee(phase), 0, 0)},
        {"upperarm01.L": (45 * c, -35, 0), "upperarm01.R": (-45 * c, -35, 0)},
        _both("lowerarm01", 60), _spine(6, 0, 8 * c), {"root": (8, 0, 0)},
    )


def jumping_jack(phase: float) -> Angles:
    """Arms from the sides to overhead and legs apart, and back (phase 0: closed)."""
    open_ = 0.5 - 0.5 * np.cos(2 * np.pi * phase)
    return _merge(
        _both("upperarm01", -5 * open_, -42 + 165 * open_), _both("lowerarm01", -20 + 10 * open_),
        _both("upperleg01", 0, 2 + 18 * open_), _both("lowerleg01", 8), _both("foot", 10 * open_),
    )


def squat(depth: float) -> Angles:
    """depth 0 = standing, 1 = deep squat with the arms forward."""
    return _merge(
        {"root": (20 * depth, 0, 0)}, _spine(15 * depth),
        _both("upperleg01", -110 * depth, 8 * depth, 10 * depth), _both("lowerleg01", 120 * depth),
        _both("foot", -25 * depth),
        _both("upperarm01", -85 * depth, -40 + 30 * depth), _both("lowerarm01", -30 * depth),
    )


def lunge(depth: float, side: str = "L") -> Angles:
    """A forward lunge on the ``side`` leg."""
    front, back = (("L", "R") if side == "L" else ("R", "L"))
    return _merge(
        {f"upperleg01.{front}": (-80 * depth, 5, 0), f"lowerleg01.{front}": (90 * depth, 0, 0),
         f"upperleg01.{back}": (20 * depth, 3, 0), f"lowerleg01.{back}": (85 * depth, 0, 0),
         f"foot.{front}": (-15 * depth, 0, 0), f"foot.{back}": (35 * depth, 0, 0)},
        _both("upperarm01", -10, -35), _both("lowerarm01", 20),
    )


def tennis_swing(phase: float) -> Angles:
    """A right-handed forehand: 0 = backswing, 1 = follow-through."""
    p = phase
    return _merge(
        _spine(15, 0, -30 + 70 * p), {"neck01": (5, 0, 25 - 45 * p)},
        {"upperarm01.R": (40 - 130 * p, 55 - 10 * p, -20 + 40 * p), "lowerarm01.R": (25 + 30 * p, 0, 0),
         "upperarm01.L": (-60 + 30 * p, 10 - 30 * p, 0), "lowerarm01.L": (40, 0, 0)},
        {"upperleg01.L": (-30, 12, 0), "lowerleg01.L": (30, 0, 0),
         "upperleg01.R": (0, 14, 0), "lowerleg01.R": (25, 0, 0)},
    )


def skate(phase: float) -> Angles:
    """Speed-skating strides: crouched, pushing one leg out sideways at a time."""
    s = np.sin(2 * np.pi * phase)
    push_l, push_r = _soft_positive(s), _soft_positive(-s)
    return _merge(
        {"root": (30, 0, 0)}, _spine(20), {"neck01": (-30, 0, 0)},
        {"upperleg01.L": (-75 + 30 * push_l, 5 + 30 * push_l, 0), "lowerleg01.L": (70 - 50 * push_l, 0, 0),
         "upperleg01.R": (-75 + 30 * push_r, 5 + 30 * push_r, 0), "lowerleg01.R": (70 - 50 * push_r, 0, 0)},
        _both("foot", -20),
        {"upperarm01.L": (60 * s, -30, 0), "upperarm01.R": (-60 * s, -30, 0)}, _both("lowerarm01", 20),
    )


def bend(depth: float) -> Angles:
    """Bending forward from the hips to pick something up."""
    return _merge({"root": (55 * depth, 0, 0)}, _spine(45 * depth), _both("upperleg01", -60 * depth),
                  _both("lowerleg01", 12 * depth), _both("upperarm01", -75 * depth, -40 + 25 * depth),
                  {"neck01": (-20 * depth, 0, 0)})


def sit(lean: float = 0.0) -> Angles:
    """Sitting on a box (not part of the person): thighs level, shins vertical, hands on the thighs."""
    return _merge(_both("upperleg01", -88, 6), _both("lowerleg01", 88), _spine(lean),
                  _both("upperarm01", -35, -35), _both("lowerarm01", 45))


def stand(rng: np.random.Generator) -> Angles:
    """Relaxed standing, arms somewhere between hanging and slightly out."""
    return _merge(_both("upperarm01", rng.uniform(-15, 15), rng.uniform(-45, -20)),
                  _both("lowerarm01", rng.uniform(0, 40)), _both("upperleg01", 0, rng.uniform(0, 8)))


def arms_raised(rng: np.random.Generator) -> Angles:
    """Arms up: overhead, in a V, or forward."""
    side = rng.uniform(60, 130)
    return _merge(_both("upperarm01", rng.uniform(-60, 0), side), _both("lowerarm01", rng.uniform(-20, 30)),
                  _both("upperleg01", 0, rng.uniform(0, 10)))


def gesture(rng: np.random.Generator) -> Angles:
    """One arm doing something (waving, pointing, phone to the ear, hand on hip), the other relaxed."""
    arm = str(rng.choice(["L", "R"]))
    other = "R" if arm == "L" else "L"
    kind = rng.integers(4)
    active = [((-20, 100, 0), (80, 0, 0)), ((-85, 10, 0), (0, 0, 0)), ((-40, 10, -30), (135, 0, 0)),
              ((10, -10, 20), (90, 0, 0))][kind]
    return {f"upperarm01.{arm}": active[0], f"lowerarm01.{arm}": active[1],
            f"upperarm01.{other}": (0, -38, 0), f"lowerarm01.{other}": (15, 0, 0)}


# ------------------------------------------------------------------------------------ random poses

POSE_KINDS = ("stand", "walk", "run", "jumping_jack", "squat", "lunge", "arms_raised", "tennis", "skate",
              "bend", "sit", "gesture")


def sample_angles(rng: np.random.Generator, kind: str | None = None) -> tuple[str, Angles, float]:
    """A random pose of ``kind`` (random kind if None): name, anatomical angles, lift [m]."""
    kind = kind or str(rng.choice(POSE_KINDS))
    lift = 0.0
    makers: dict[str, Callable[[], Angles]] = {
        "stand": lambda: stand(rng),
        "walk": lambda: walk(rng.random(), rng.uniform(0.6, 1.1), rng.uniform(0.5, 1.2)),
        "run": lambda: run(rng.random(), rng.uniform(0.7, 1.1)),
        "jumping_jack": lambda: jumping_jack(rng.uniform(0.0, 0.5)),
        "squat": lambda: squat(rng.uniform(0.4, 1.0)),
        "lunge": lambda: lunge(rng.uniform(0.5, 1.0), str(rng.choice(["L", "R"]))),
        "arms_raised": lambda: arms_raised(rng),
        "tennis": lambda: tennis_swing(rng.random()),
        "skate": lambda: skate(rng.random()),
        "bend": lambda: bend(rng.uniform(0.4, 1.0)),
        "sit": lambda: sit(rng.uniform(-5, 20)),
        "gesture": lambda: gesture(rng),
    }
    angles = _jitter(rng, makers[kind](), 4.0)
    if kind == "jumping_jack" or (kind == "run" and rng.random() < 0.5):
        lift = float(rng.uniform(0.0, 0.12))
    return kind, angles, lift


def sample_pose(rng: np.random.Generator, space: PoseSpace, kind: str | None = None) -> Pose:
    name, angles, lift = sample_angles(rng, kind)
    return Pose(name, space.rotations(angles), lift)


# ------------------------------------------------------------------------------------------- clips

CLIP_KINDS = ("walk", "run", "jumping_jacks", "squats", "lunge", "arms", "tennis", "skate", "bend", "turn")


def sample_clip(rng: np.random.Generator, space: PoseSpace, frames: int = 48, kind: str | None = None,
                fps: float = 24.0) -> Clip:
    """A short smooth animation of ``frames`` frames (random kind if None)."""
    kind = kind or str(rng.choice(CLIP_KINDS))
    t = np.arange(frames) / fps
    yaw = np.zeros(frames)
    offsets = np.zeros((frames, 3))
    noise_seed = int(rng.integers(2**31))
    if kind == "walk":
        period = rng.uniform(0.9, 1.2)
        stride, swing = rng.uniform(0.7, 1.1), rng.uniform(0.5, 1.2)
        angles = [walk(x / period + 0.1, stride, swing) for x in t]
        offsets[:, 1] = -0.7 * stride * t  # walking towards −y (the body's front), slowly: a static camera films it
    elif kind == "run":
        period = rng.uniform(0.6, 0.75)
        effort = rng.uniform(0.7, 1.0)
        angles = [run(x / period, effort) for x in t]
        offsets[:, 2] = 0.06 * _soft_positive(np.sin(2 * np.pi * t / period * 2.0))
        offsets[:, 1] = -1.0 * t
    elif kind == "jumping_jacks":
        period = rng.uniform(0.8, 1.1)
        angles = [jumping_jack(x / period) for x in t]
        offsets[:, 2] = 0.1 * _soft_positive(np.sin(2 * np.pi * t / period * 2.0))
    elif kind == "squats":
        period = rng.uniform(1.6, 2.2)
        deep = rng.uniform(0.6, 1.0)
        angles = [squat(deep * (0.5 - 0.5 * np.cos(2 * np.pi * x / period))) for x in t]
    elif kind == "lunge":
        side = str(rng.choice(["L", "R"]))
        angles = [lunge(0.9 * (0.5 - 0.5 * np.cos(2 * np.pi * x / 2.0)), side) for x in t]
    elif kind == "arms":
        start, end = stand(rng), arms_raised(rng)
        angles = [_blend(start, end, 0.5 - 0.5 * np.cos(2 * np.pi * x / 2.0)) for x in t]
    elif kind == "tennis":
        ready = _merge(_spine(15), _both("upperleg01", -25, 12), _both("lowerleg01", 30),
                       _both("upperarm01", -45, -20), _both("lowerarm01", 60))
        keys = [ready, tennis_swing(0.0), tennis_swing(0.5), tennis_swing(1.0), ready]
        angles = [_keyframes(keys, x / t[-1]) for x in t]
    elif kind == "skate":
        period = rng.uniform(1.0, 1.4)
        angles = [skate(x / period) for x in t]
        offsets[:, 1] = -1.0 * t
    elif kind == "bend":
        angles = [bend(0.5 - 0.5 * np.cos(2 * np.pi * x / 2.0)) for x in t]
    else:  # "turn": standing, turning around on the spot
        base = stand(rng)
        angles = [base for _ in t]
        yaw = np.radians(rng.uniform(90, 270)) * (0.5 - 0.5 * np.cos(np.pi * t / t[-1]))
    angles = smooth_variation(np.random.default_rng(noise_seed), angles, t)
    rotations = np.stack([space.rotations(a) for a in angles])
    return Clip(kind, rotations, yaw, offsets)


def _blend(a: Angles, b: Angles, weight: float) -> Angles:
    bones = set(a) | set(b)
    zero = (0.0, 0.0, 0.0)
    return {k: tuple((1 - weight) * np.asarray(a.get(k, zero)) + weight * np.asarray(b.get(k, zero))) for k in bones}


def _keyframes(keys: list[Angles], u: float) -> Angles:
    """Smooth (smoothstep-eased) interpolation through evenly spaced key poses, u in [0, 1]."""
    x = np.clip(u, 0.0, 1.0) * (len(keys) - 1)
    i = min(int(np.floor(x)), len(keys) - 2)
    f = x - i
    return _blend(keys[i], keys[i + 1], f * f * (3 - 2 * f))


def smooth_variation(rng: np.random.Generator, angles: list[Angles], t: np.ndarray) -> list[Angles]:
    """Add a per-person offset and slow sinusoidal drift (a few degrees) to every joint of a clip."""
    bones = sorted(set().union(*angles) | {"neck01", "head"})
    offset = {b: rng.normal(0.0, 4.0, 3) for b in bones}
    amplitude = {b: rng.normal(0.0, 3.0, 3) for b in bones}
    frequency = {b: rng.uniform(0.2, 0.6, 3) for b in bones}
    phase = {b: rng.uniform(0, 2 * np.pi, 3) for b in bones}
    zero = (0.0, 0.0, 0.0)
    return [{b: tuple(np.asarray(a.get(b, zero)) + offset[b] + amplitude[b] * np.sin(2 * np.pi * frequency[b] * x + phase[b]))
             for b in bones} for a, x in zip(angles, t)]
