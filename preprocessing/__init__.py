"""Video → frames, person landmarks and masks, smoothed 512×512 crops."""
