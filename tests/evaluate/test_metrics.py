"""Metric functions of mshc.evaluate.metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mshc.evaluate import metrics

# Unit vectors whose cosine with [1, 0] is exactly 0.0, 0.6, 0.8 and 1.0.
BASE = np.array([[1, 0], [1, 0], [1, 0], [1, 0]], dtype=np.float32)
ROTATED = np.array([[0, 1], [0.6, 0.8], [0.8, 0.6], [1, 0]], dtype=np.float32)
COSINES = [0.0, 0.6, 0.8, 1.0]


# Cosine and normalization


def test_paired_cosine_values():
    u = np.array([[1, 0], [3, 4], [1, 1], [2, 0]], dtype=np.float32)
    v = np.array([[0, 1], [3, 4], [-1, -1], [0.6, 0.8]], dtype=np.float32)

    cosine = metrics.paired_cosine(u, v)

    np.testing.assert_allclose(cosine, [0.0, 1.0, -1.0, 0.6], atol=1e-7)


def test_paired_cosine_ignores_length():
    u = np.array([[3, 4]], dtype=np.float32)
    v = np.array([[30, 40]], dtype=np.float32)

    assert metrics.paired_cosine(u, v)[0] == pytest.approx(1.0)


def test_paired_cosine_zero_vector():
    u = np.array([[0, 0]], dtype=np.float32)
    v = np.array([[1, 0]], dtype=np.float32)

    assert metrics.paired_cosine(u, v).tolist() == [0.0]


def test_l2_normalize_rows():
    x = np.array([[3, 4], [0, 0], [0, -2]], dtype=np.float32)

    out = metrics.l2_normalize(x)

    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0], [0, -1]], atol=1e-7)
    assert out.dtype == np.float32


def test_truncate_renormalizes():
    x = np.array([[3, 4, 12], [0, 5, 0]], dtype=np.float32)

    out = metrics.truncate(x, 2)

    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 1]], atol=1e-7)
    assert out.shape == (2, 2)
    assert out.dtype == np.float32


@pytest.mark.parametrize("dim", [0, 3, 4, -1])
def test_truncate_invalid_dim_raises(dim):
    x = np.ones((2, 3), dtype=np.float32)

    with pytest.raises(ValueError, match=f"truncation to {dim} dims needs 0 < dim < 3"):
        metrics.truncate(x, dim)


# STS correlations


def test_sts_perfect_order():
    gold = [0.5, 2.0, 3.0, 4.5]  # same order as COSINES, not a linear map

    scores = metrics.sts_correlations(BASE, ROTATED, gold)

    assert scores["spearman_cosine"] == pytest.approx(100.0)
    assert scores["pearson_cosine"] < 100.0


def test_sts_linear_gold():
    gold = [5 * c for c in COSINES]

    scores = metrics.sts_correlations(BASE, ROTATED, gold)

    assert scores["spearman_cosine"] == pytest.approx(100.0)
    assert scores["pearson_cosine"] == pytest.approx(100.0)


def test_sts_reversed_order():
    gold = [4.0, 3.0, 2.5, 0.0]

    scores = metrics.sts_correlations(BASE, ROTATED, gold)

    assert scores["spearman_cosine"] == pytest.approx(-100.0)


def test_sts_partial_order():
    # cosine x = [0, .6, .8, 1], gold y = [1, 3, 2, 4].
    # Spearman: ranks of x are 1 2 3 4 and of y 1 3 2 4, so d = [0, -1, 1, 0],
    # sum d^2 = 2 and rho = 1 - 6 * 2 / (4 * (16 - 1)) = 0.8.
    # Pearson: x - mean = [-.6, 0, .2, .4] and y - mean = [-1.5, .5, -.5, 1.5].
    # The sum of products is 1.4, the sums of squares .56 and 5, so
    # r = 1.4 / sqrt(.56 * 5) = 1.4 / sqrt(2.8).
    gold = [1.0, 3.0, 2.0, 4.0]

    scores = metrics.sts_correlations(BASE, ROTATED, gold)

    assert scores["spearman_cosine"] == pytest.approx(80.0)
    assert scores["pearson_cosine"] == pytest.approx(100 * 1.4 / math.sqrt(2.8))


def test_sts_returns_floats():
    scores = metrics.sts_correlations(BASE, ROTATED, [1.0, 3.0, 2.0, 4.0])

    assert sorted(scores) == ["pearson_cosine", "spearman_cosine"]
    assert all(type(v) is float for v in scores.values())


# Average precision


def test_max_ap_ranking():
    # Pairs ranked by cosine 1.0, 0.8, 0.6, 0.0 have labels 1, 0, 1, 0: positives
    # at ranks 1 and 3, so AP = (1/1 + 2/3) / 2 = 5/6.
    labels = [0, 1, 0, 1]  # in the order of COSINES

    ap = metrics.max_average_precision(BASE, ROTATED, labels)

    assert ap == pytest.approx(100 * 5 / 6)


def test_max_ap_perfect_ranking():
    ap = metrics.max_average_precision(BASE, ROTATED, [0, 0, 1, 1])

    assert ap == pytest.approx(100.0)


def test_max_ap_worst_ranking():
    # Positives at ranks 3 and 4: AP = (1/3 + 2/4) / 2 = 5/12.
    ap = metrics.max_average_precision(BASE, ROTATED, [1, 1, 0, 0])

    assert ap == pytest.approx(100 * 5 / 12)


# Probe features and accuracy


def test_pair_features_content():
    u = np.array([[1, -2], [0, 3]], dtype=np.float32)
    v = np.array([[4, 1], [0, -1]], dtype=np.float32)

    features = metrics.pair_features(u, v)

    assert features.shape == (2, 8)
    assert features.dtype == np.float32
    np.testing.assert_array_equal(features[:, 0:2], u)
    np.testing.assert_array_equal(features[:, 2:4], v)
    np.testing.assert_array_equal(features[:, 4:6], [[3, 3], [0, 4]])
    np.testing.assert_array_equal(features[:, 6:8], [[4, -2], [0, -3]])


def test_probe_separable_data():
    rng = np.random.default_rng(0)
    labels = np.array(["neg", "pos"] * 40)
    centers = np.where(labels[:, None] == "pos", 3.0, -3.0)
    x = (centers + rng.normal(scale=0.5, size=(80, 4))).astype(np.float32)

    accuracy = metrics.probe_accuracy(x[:60], labels[:60], x[60:], labels[60:])

    assert accuracy == pytest.approx(100.0)


def test_probe_partial_accuracy():
    # Test labels flipped on one point of four: the probe is right on three.
    rng = np.random.default_rng(1)
    labels = np.array([0, 1] * 20)
    x = (labels[:, None] * 6.0 - 3.0 + rng.normal(scale=0.3, size=(40, 2))).astype(
        np.float32
    )
    xq = np.array([[-3, -3], [3, 3], [-3, -3], [3, 3]], dtype=np.float32)

    accuracy = metrics.probe_accuracy(x, labels, xq, [0, 1, 0, 0])

    assert accuracy == pytest.approx(75.0)


# Size and retention


def test_compression_ratio_truncation():
    assert metrics.compression_ratio(512, 32 * 64) == 8.0


def test_compression_ratio_full():
    assert metrics.compression_ratio(384, 32 * 384) == 1.0


def test_compression_ratio_binary_code():
    # 512 float32 dims packed as 512 bits: 32x smaller.
    assert metrics.compression_ratio(512, 512) == 32.0


def test_retention_percent():
    assert metrics.retention(45.0, 90.0) == pytest.approx(50.0)


def test_retention_full_is_100():
    assert metrics.retention(82.5, 82.5) == pytest.approx(100.0)
