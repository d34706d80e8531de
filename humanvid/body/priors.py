"""Parameter priors: a Gaussian and box limits on the pose in per-joint anatomical frames, and
a Gaussian and box limits on the shape.

Pose parameters are axis-angle vectors per joint in the model's own convention. Their
components are re-expressed in a fixed frame per joint, (bend, side, twist), before
the limits are applied: `bend` is about the joint's main hinge axis, `twist` about the
bone's own direction at rest, `side` about the third axis. Box limits on those three
numbers are a good approximation of anatomical ranges for the angles a human body uses,
and they keep elbows and knees from bending backwards.
"""

from __future__ import annotations

import torch


def squared_excess(values: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """Elementwise squared distance of `values` outside [lower, upper] (0 inside)."""
    return torch.relu(lower - values) ** 2 + torch.relu(values - upper) ** 2


class PosePrior(torch.nn.Module):
    """Gaussian + joint limits over P posable joints.

    Buffers (move with `.to()`):
        joint_frames: (P, 3, 3) columns = (bend, side, twist) axes in the pose
            parameters' axes; a pose vector's joint-frame components are frames^T @ pose.
        mean, std: (P, 3) Gaussian in joint-frame components, radians.
        lower, upper: (P, 3) box limits in joint-frame components, radians.
    """

    def __init__(
        self,
        joint_frames: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor,
        lower: torch.Tensor,
        upper: torch.Tensor,
    ) -> None:
        super().__init__()
        count = joint_frames.shape[0]
        for name, value, shape in (
            ("joint_frames", joint_frames, (count, 3, 3)),
            ("mean", mean, (count, 3)),
            ("std", std, (count, 3)),
            ("lower", lower, (count, 3)),
            ("upper", upper, (count, 3)),
        ):
            if tuple(value.shape) != shape:
                raise ValueError(f"{name} has shape {tuple(value.shape)}, expected {shape}")
            self.register_buffer(name, value.clone(), persistent=False)
        if bool((self.lower > self.upper).any()):
            raise ValueError("a lower joint limit exceeds its upper limit")

    def to_joint_frames(self, pose: torch.Tensor) -> torch.Tensor:
        """(B, P, 3) axis-angle in the model's axes -> (B, P, 3) (bend, side, twist) components."""
        return (self.joint_frames.transpose(-1, -2) @ pose[..., None])[..., 0]

    def from_joint_frames(self, components: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`to_joint_frames`."""
        return (self.joint_frames @ components[..., None])[..., 0]

    def gaussian_energy(self, pose: torch.Tensor) -> torch.Tensor:
        """(B, P, 3) -> (B,) sum of squared standardised components (a negative log-likelihood x 2)."""
        standardised = (self.to_joint_frames(pose) - self.mean) / self.std
        return (standardised**2).sum(dim=(-1, -2))

    def limit_violation(self, pose: torch.Tensor) -> torch.Tensor:
        """(B, P, 3) -> (B,) sum of squared radians outside the joint limits (0 when all inside)."""
        components = self.to_joint_frames(pose)
        return squared_excess(components, self.lower, self.upper).sum(dim=(-1, -2))

    def sample(self, batch_size: int, generator: torch.Generator | None = None, scale: float = 1.0) -> torch.Tensor:
        """(batch_size, P, 3) random poses: the Gaussian (std times `scale`) clamped to the
        limits. Cheap plausible poses for synthetic data and tests (not a learned prior)."""
        noise = torch.randn(
            (batch_size, *self.mean.shape), generator=generator, dtype=self.mean.dtype, device=self.mean.device
        )
        return self.clamp(self.from_joint_frames(self.mean + scale * self.std * noise))

    def clamp(self, pose: torch.Tensor) -> torch.Tensor:
        """Project a pose into the limits (component-wise in the joint frames)."""
        components = self.to_joint_frames(pose)
        return self.from_joint_frames(torch.maximum(torch.minimum(components, self.upper), self.lower))


class ShapePrior(torch.nn.Module):
    """Gaussian + box limits over S shape parameters.

    Buffers: mean, std, lower, upper, each (S,). Unbounded parameters use +-inf limits.
    """

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor) -> None:
        super().__init__()
        for name, value in (("mean", mean), ("std", std), ("lower", lower), ("upper", upper)):
            if value.shape != mean.shape or value.dim() != 1:
                raise ValueError(f"{name} must have shape {tuple(mean.shape)}")
            self.register_buffer(name, value.clone(), persistent=False)

    def gaussian_energy(self, shape: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B,) sum of squared standardised parameters."""
        return (((shape - self.mean) / self.std) ** 2).sum(dim=-1)

    def limit_violation(self, shape: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B,) sum of squared excess outside the limits."""
        return squared_excess(shape, self.lower, self.upper).sum(dim=-1)

    def clamp(self, shape: torch.Tensor) -> torch.Tensor:
        return torch.maximum(torch.minimum(shape, self.upper), self.lower)
