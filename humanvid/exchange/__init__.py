"""File formats, one module each: the run folder, OBJ meshes, body parameters."""
