"""Engines: where `humanvid reconstruct` runs each input's job (humanvid.pipeline.run_job).

- local (default): in this process, one input after the other (humanvid.cli.reconstruct);
- ray: as Ray tasks on a Ray cluster (humanvid.engines.ray_engine), a long video's mesh stage split into
  chunks of frames (humanvid.engines.chunks, humanvid.engines.tasks).

The output folder is the only state the engines share, so both write the same files; the engine is not an
output-shaping setting and stays out of run.json and the fingerprints.
"""

ENGINES = ("local", "ray")
