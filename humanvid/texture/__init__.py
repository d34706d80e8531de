"""A person's colour: the canonical mesh's UV atlas and its texture, baked from every frame that saw each point."""
