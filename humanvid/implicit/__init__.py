"""The implicit surface: the occupancy network (model/), meshing a frame or a video with it (inference/), training it (training/)."""
