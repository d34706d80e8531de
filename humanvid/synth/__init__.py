"""Synthetic clothed humans: generator, renderer and ground truth for training and measurement."""
