"""Seeded clustered vectors shared by the codec tests."""

from __future__ import annotations

import numpy as np
import pytest


def clustered(n: int, dim: int, clusters: int = 16, seed: int = 0) -> np.ndarray:
    """Return `n` unit float32 vectors of `dim` dims drawn around `clusters` centers.

    The centers decay in scale along the dims, like sentence embeddings, so nested
    prefixes and principal components carry unequal information.
    """
    rng = np.random.default_rng(seed)
    scale = np.linspace(1.0, 0.2, dim)
    centers = rng.normal(size=(clusters, dim)) * scale
    labels = rng.integers(clusters, size=n)
    x = centers[labels] + 0.3 * rng.normal(size=(n, dim)) * scale
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


@pytest.fixture
def vectors() -> np.ndarray:
    """12,000 clustered unit vectors of 64 dims (enough for 256 centers per codebook)."""
    return clustered(12_000, 64)


@pytest.fixture
def small_vectors() -> np.ndarray:
    """2,000 clustered unit vectors of 32 dims, for fast tests."""
    return clustered(2_000, 32)
