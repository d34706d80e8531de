"""Learn humanvid/body/limb_correction.json from synthetic training stills.

    python checkpoints/train_limb_correction.py DATA [--ridge 1.0] [-o humanvid/body/limb_correction.json]

DATA is a folder of `humanvid synth --split train` (DATA/train/NNNNNN/ with crop.png and sample.npz).
Each still's crop is looked at as the fit looks at crops: MediaPipe's heavy pose model, plain and
mirrored, each look blended with its image depth, then averaged (humanvid/body/world_landmarks.py);
the correction is the ridge regression from those looks' limb directions to the true ones
(humanvid/body/limb_correction.py). Deterministic: no seed, a closed-form solution.
Needs the heavy pose model (`humanvid install-pose-model`, README setup).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanvid.body.limb_correction import SHIPPED, learn_limb_correction  # noqa: E402
from humanvid.body.world_landmarks import blended_looks, mean_of_agreeing  # noqa: E402
from preprocessing.crop_looks import Look, crop_landmarks  # noqa: E402
from preprocessing.pose_models import heavy_model_installed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder holding train/NNNNNN/ stills of humanvid synth")
    parser.add_argument("--ridge", type=float, default=1.0)
    parser.add_argument("-o", "--output", type=Path, default=SHIPPED)
    args = parser.parse_args()
    if not heavy_model_installed():
        raise SystemExit("the heavy pose model is not installed (humanvid install-pose-model, README setup)")
    stills = sorted(p for p in (args.data / "train").iterdir() if (p / "crop.png").exists() and (p / "sample.npz").exists())
    looks = crop_landmarks([still / "crop.png" for still in stills], (Look(2, False), Look(2, True)), unrelated=True)
    world = mean_of_agreeing(blended_looks(looks))  # (N, 33, 3), as the fit averages its looks
    truth = np.stack([np.load(still / "sample.npz")["keypoints"] for still in stills])
    usable = int(np.isfinite(world).all(axis=(1, 2)).sum())
    note = f"{usable} of {len(stills)} stills of {args.data.resolve().name}/train, ridge {args.ridge:g}"
    learn_limb_correction(world, truth, args.ridge, note).save(args.output)
    print(f"wrote {args.output} ({note})")


if __name__ == "__main__":
    main()
