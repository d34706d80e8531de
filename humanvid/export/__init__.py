"""What humanvid writes for people to use: OBJ sequences, previews."""
