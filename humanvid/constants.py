"""Named sizes, margins and tolerances that more than one stage relies on.

Units: metres for lengths in space, pixels for lengths in images. A value used by
one module only lives in that module; a value two stages must agree on lives here.
"""

from __future__ import annotations

# Images
CROP_SIZE = 512  # px, side of the square crop around the person that the fit and the network read
PERSON_FILL = 0.8  # share of the crop height the person takes
SILHOUETTE_SIZE = 128  # px, side of the masks the fit compares silhouettes with (a quarter of the crop)
DEFAULT_VERTICAL_FOV_DEG = 55.0  # field of view of the full frame when the user gives no --focal
TEXTURE_SIZE = 1024  # texels, side of a person's texture (~1.5 mm per texel on an adult)

# Projection
MIN_DEPTH = 1e-3  # m: points nearer than this (or behind the camera) are projected as if this far

# Where the clothed surface is sought
BOX_MARGIN = 0.25  # m around the fitted body's box
VIDEO_DEPTH_MARGIN = 0.0  # m, depth band of a video (`--depth-margin`); 0: none, a cut per frame would flicker
PHOTO_DEPTH_MARGIN = 0.07  # m, depth band of a single image, where the network errs thick

# The person
HEIGHT_RANGE = (0.5, 2.6)  # m, heights `--height` accepts

CARRY_STRIDE = 4  # fusion carries points with every 4th body vertex (the skinning field is smooth)
