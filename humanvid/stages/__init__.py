"""The stages of `humanvid reconstruct` beyond preprocessing, each reading the previous stage from disk."""
