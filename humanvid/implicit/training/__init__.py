"""Training the occupancy network on synthetic samples."""
