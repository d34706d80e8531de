"""From a frame and its fitted body to a clothed surface: occupancy on a lattice, fusion over time, marching cubes."""
