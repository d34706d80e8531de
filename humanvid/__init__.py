"""humanvid: clothed, temporally consistent 3D humans from monocular video."""

__version__ = "0.1.0"
