"""Implicit occupancy network: model, meshing, temporal fusion."""
