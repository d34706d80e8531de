"""Ray casting and shading of triangle meshes through humanvid cameras, shared by export, evaluation and synth."""
