"""Soft-to-hard vector quantization: codes, annealing, codebook usage and messages."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from mshc.compress import build_codec
from mshc.compress.base import stored_bits
from mshc.compress.vq import SoftToHardVQ

FAST = {"epochs": 3, "batch_size": 256}


def fit_vq(x: np.ndarray, **params: object) -> SoftToHardVQ:
    codec = build_codec({"kind": "vq", **FAST, **params}, "vq")
    assert isinstance(codec, SoftToHardVQ)
    return codec.fit(x)


def mean_squared_error(codec: SoftToHardVQ, x: np.ndarray) -> float:
    return float(((codec.decode(codec.encode(x)) - x) ** 2).sum(axis=1).mean())


def test_vq_round_trip_shape_and_bits(small_vectors: np.ndarray) -> None:
    codec = fit_vq(small_vectors, groups=8, codebook_size=16)
    codes = codec.encode(small_vectors)
    decoded = codec.decode(codes)
    assert codes.dtype == np.uint8
    assert codes.shape == (len(small_vectors), 4)
    assert decoded.dtype == np.float32
    assert decoded.shape == small_vectors.shape
    assert codec.bits_for(32) == 8 * 4
    assert stored_bits(codes) == 8 * math.ceil(codec.bits_per_vector / 8)


def test_vq_bits_round_up_codebook_size() -> None:
    codec = SoftToHardVQ(groups=3, codebook_size=100)
    assert codec.bits_for(48) == 3 * 7


def test_vq_encode_matches_brute_force(small_vectors: np.ndarray) -> None:
    codec = fit_vq(small_vectors, groups=4, codebook_size=32, beta_end=1000.0)
    codebooks = codec.state()["codebooks"].astype(np.float64)
    sub = small_vectors.astype(np.float64).reshape(len(small_vectors), 4, -1)
    distances = ((sub[:, :, None, :] - codebooks[None]) ** 2).sum(axis=3)
    expected = distances.argmin(axis=2)
    np.testing.assert_array_equal(codec.assign(small_vectors), expected)
    picked = codebooks[np.arange(4), expected].reshape(len(small_vectors), -1)
    np.testing.assert_allclose(
        codec.decode(codec.encode(small_vectors)), picked, rtol=0, atol=1e-6
    )


def test_vq_soft_agrees_with_hard_at_high_beta(small_vectors: np.ndarray) -> None:
    codec = fit_vq(small_vectors, groups=4, codebook_size=32, beta_end=1000.0)
    assert codec.fit_stats["agreement"] >= 0.99
    assert codec.fit_stats["soft_hard_gap"] < 0.01 * codec.fit_stats["mse"]


def test_vq_fit_stats_ranges(small_vectors: np.ndarray) -> None:
    codec = fit_vq(small_vectors, groups=8, codebook_size=16)
    stats = codec.fit_stats
    assert 0.0 <= stats["min_usage"] <= stats["usage"] <= 1.0
    assert 1.0 <= stats["perplexity"] <= 16.0
    assert 0.0 <= stats["agreement"] <= 1.0
    assert stats["soft_hard_gap"] >= 0.0
    assert stats["final_loss"] > 0.0
    assert stats["mse"] == pytest.approx(mean_squared_error(codec, small_vectors))


def test_vq_error_falls_with_codebook_size(small_vectors: np.ndarray) -> None:
    errors = [
        mean_squared_error(
            fit_vq(small_vectors, groups=8, codebook_size=size), small_vectors
        )
        for size in (4, 16, 64)
    ]
    assert errors[0] > errors[1] > errors[2]


def test_vq_rejects_groups_not_dividing_dim() -> None:
    codec = SoftToHardVQ(groups=5, key="ablations.x.chain[1]")
    with pytest.raises(
        ValueError,
        match=r"ablations.x.chain\[1\].groups=5 does not divide the input dimension 32; "
        r"choose one of its divisors: 1, 2, 4, 8, 16, 32",
    ):
        codec.check(2000, 32, "ablations.x.chain[1]")


def test_vq_rejects_too_few_vectors(small_vectors: np.ndarray) -> None:
    codec = SoftToHardVQ(groups=8, codebook_size=1024)
    with pytest.raises(
        ValueError,
        match=r"vq.codebook_size=1024 needs at least 4096 fit vectors \(4 per center\), "
        r"but got 2000; lower vq.codebook_size",
    ):
        codec.fit(small_vectors)


def test_vq_rejects_invalid_params() -> None:
    with pytest.raises(ValueError, match=r"vq.codebook_size=1 must be at least 2"):
        SoftToHardVQ(codebook_size=1)
    with pytest.raises(ValueError, match=r"vq.beta_end=0.5 is below vq.beta_start=1.0"):
        SoftToHardVQ(beta_start=1.0, beta_end=0.5)
    with pytest.raises(ValueError, match=r"vq.usage_threshold=1.5 must be a fraction"):
        SoftToHardVQ(usage_threshold=1.5)
    with pytest.raises(TypeError, match=r"vq.groups='8' has type str"):
        SoftToHardVQ(groups="8")  # type: ignore[arg-type]


def test_vq_state_round_trip(small_vectors: np.ndarray) -> None:
    codec = fit_vq(small_vectors, groups=8, codebook_size=16)
    restored = build_codec(codec.config(), "vq")
    restored.load_state(codec.state())
    assert restored.input_dim == 32
    np.testing.assert_array_equal(
        restored.encode(small_vectors), codec.encode(small_vectors)
    )
    codes = codec.encode(small_vectors)
    np.testing.assert_array_equal(restored.decode(codes), codec.decode(codes))
    assert codec.model_bytes == 8 * 16 * 4 * 4


def test_vq_same_seed_same_codes(small_vectors: np.ndarray) -> None:
    first = fit_vq(small_vectors, groups=8, codebook_size=16, seed=3)
    second = fit_vq(small_vectors, groups=8, codebook_size=16, seed=3)
    np.testing.assert_array_equal(
        first.encode(small_vectors), second.encode(small_vectors)
    )


def test_vq_warns_on_collapsed_codebook(caplog: pytest.LogCaptureFixture) -> None:
    # Three distinct points repeated: at most 3 of 256 centers can be used per group.
    rng = np.random.default_rng(0)
    points = rng.normal(size=(3, 16)).astype(np.float32)
    x = points[rng.integers(3, size=1100)]
    with caplog.at_level(logging.WARNING, logger="mshc.compress.vq"):
        codec = fit_vq(x, groups=4, codebook_size=256, usage_threshold=1.0, epochs=1)
    assert codec.fit_stats["usage"] <= 3 / 256
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1
    assert "4 of 4 groups use fewer than 100% of their centers" in messages[0]
    assert "lower vq.codebook_size, raise vq.beta_start" in messages[0]


def test_vq_no_warning_below_threshold(
    small_vectors: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mshc.compress.vq"):
        fit_vq(small_vectors, groups=8, codebook_size=4, usage_threshold=0.5)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_vq_config_rebuilds_codec() -> None:
    codec = SoftToHardVQ(groups=16, codebook_size=64, seed=5)
    config = codec.config()
    assert next(iter(config)) == "kind"
    assert build_codec(config, "vq").config() == config
