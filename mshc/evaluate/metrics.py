"""Metric functions on arrays; each returns plain floats and is checked by hand-made cases."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score

FloatArray = npt.NDArray[np.float32]

FLOAT32_BITS = 32


def l2_normalize(x: FloatArray) -> FloatArray:
    """Return the rows of `x` (n, d) scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms == 0, 1, norms)).astype(np.float32)


def truncate(x: FloatArray, dim: int) -> FloatArray:
    """Keep the first `dim` coordinates of each row of `x` (n, d), re-normalized.

    Raises:
        ValueError: `dim` is not below d.
    """
    if not 0 < dim < x.shape[1]:
        raise ValueError(f"truncation to {dim} dims needs 0 < dim < {x.shape[1]}")
    return l2_normalize(np.ascontiguousarray(x[:, :dim]))


def paired_cosine(u: FloatArray, v: FloatArray) -> npt.NDArray[np.float64]:
    """Return the cosine similarity of each row pair of `u` and `v`, both (n, d)."""
    u64 = u.astype(np.float64)
    v64 = v.astype(np.float64)
    dot = np.einsum("ij,ij->i", u64, v64)
    norms = np.linalg.norm(u64, axis=1) * np.linalg.norm(v64, axis=1)
    return dot / np.where(norms == 0, 1, norms)


def sts_correlations(
    u: FloatArray, v: FloatArray, gold: npt.ArrayLike
) -> dict[str, float]:
    """Return Spearman and Pearson correlation (x100) of pair cosines with gold scores."""
    cosine = paired_cosine(u, v)
    gold_arr = np.asarray(gold, dtype=np.float64)
    return {
        "spearman_cosine": 100 * float(stats.spearmanr(cosine, gold_arr).statistic),
        "pearson_cosine": 100 * float(stats.pearsonr(cosine, gold_arr).statistic),
    }


def max_average_precision(u: FloatArray, v: FloatArray, labels: npt.ArrayLike) -> float:
    """Return average precision (x100) of pair cosine for binary labels (1 = positive).

    Cosine is the only similarity here, so the "max" over similarity functions in
    mteb's pair classification reduces to its cosine AP when embeddings are unit length.
    """
    return 100 * float(average_precision_score(np.asarray(labels), paired_cosine(u, v)))


def pair_features(u: FloatArray, v: FloatArray) -> FloatArray:
    """Return the probe features [u, v, |u - v|, u * v] of row pairs, shape (n, 4d)."""
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=1).astype(np.float32)


def probe_accuracy(
    xt: FloatArray,
    yt: npt.ArrayLike,
    xq: FloatArray,
    yq: npt.ArrayLike,
    c: float = 1.0,
    max_iter: int = 1000,
    seed: int = 0,
) -> float:
    """Train a logistic-regression probe on (xt, yt) and return its accuracy (x100) on (xq, yq)."""
    probe = LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
    probe.fit(xt, np.asarray(yt))
    return 100 * float(accuracy_score(np.asarray(yq), probe.predict(xq)))


def compression_ratio(full_dim: int, bits_per_vector: int) -> float:
    """Return (full_dim * 32) / bits_per_vector, the size of float32 over the code."""
    return FLOAT32_BITS * full_dim / bits_per_vector


def retention(score: float, full_score: float) -> float:
    """Return `score` as a percentage of `full_score`."""
    return 100 * score / full_score
