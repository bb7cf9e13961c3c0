"""Sentence encoders behind one interface, and the embedding files they write."""

from mshc.encode.encoder import BACKENDS, Encoder

__all__ = ["BACKENDS", "Encoder"]
