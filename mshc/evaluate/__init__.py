"""Task metrics on embeddings: pure functions, no file I/O and no tracking."""
