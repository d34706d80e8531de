"""The occupancy network: image encoder, relative keypoint encoding, MLP, and its checkpoint files."""
