"""mshc: a reproducible benchmark harness for compressing sentence embeddings."""

__version__ = "0.1.0"
