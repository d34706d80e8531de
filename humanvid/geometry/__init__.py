"""Geometry shared by the synthetic data, the network and meshing: lattices and distances to a body surface."""
