"""Int8 and binary codecs: codes equal sentence-transformers' own, bounded decode error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sentence_transformers import quantize_embeddings

from mshc.compress import build_codec
from mshc.compress.base import stored_bits
from mshc.compress.scalar import Binary, Int8
from tests.compress.conftest import clustered

# -- int8 -----------------------------------------------------------------------


def test_int8_round_trip(small_vectors: np.ndarray) -> None:
    codec = Int8().fit(small_vectors)
    codes = codec.encode(small_vectors)
    assert codes.dtype == np.int8
    assert codes.shape == (2_000, 32)
    decoded = codec.decode(codes)
    assert decoded.dtype == np.float32
    assert decoded.shape == (2_000, 32)


def test_int8_ranges_are_fit_min_max(small_vectors: np.ndarray) -> None:
    ranges = Int8().fit(small_vectors).state()["ranges"]
    assert ranges.dtype == np.float32
    np.testing.assert_array_equal(ranges[0], small_vectors.min(axis=0))
    np.testing.assert_array_equal(ranges[1], small_vectors.max(axis=0))


def test_int8_encode_equals_library(small_vectors: np.ndarray) -> None:
    codec = Int8().fit(small_vectors[:500])
    ranges = codec.state()["ranges"]
    expected = quantize_embeddings(small_vectors, precision="int8", ranges=ranges)
    np.testing.assert_array_equal(codec.encode(small_vectors), expected)


def test_int8_decode_within_half_step(small_vectors: np.ndarray) -> None:
    codec = Int8().fit(small_vectors)
    ranges = codec.state()["ranges"]
    half_step = (ranges[1] - ranges[0]) / 255 / 2
    decoded = codec.decode(codec.encode(small_vectors))
    error = np.abs(decoded - small_vectors)
    assert np.all(error <= half_step * (1 + 1e-4))


def test_int8_decode_clips_to_range(small_vectors: np.ndarray) -> None:
    codec = Int8().fit(small_vectors)
    low, high = codec.state()["ranges"]
    outside = np.stack([high + 0.5, low - 0.5]).astype(np.float32)
    decoded = codec.decode(codec.encode(outside))
    np.testing.assert_array_equal(decoded[0], high)
    assert np.all(decoded[1] >= low)
    assert np.all(decoded[1] < low + (high - low) / 255)


def test_int8_constant_dim_decodes_exactly() -> None:
    x = clustered(100, 8, seed=2)
    x[:, 3] = 0.25
    codec = Int8().fit(x)
    assert codec.fit_stats["constant_dims"] == 1.0
    np.testing.assert_array_equal(codec.decode(codec.encode(x))[:, 3], 0.25)


def test_int8_stored_bits(small_vectors: np.ndarray) -> None:
    codec = Int8().fit(small_vectors)
    assert codec.bits_per_vector == 8 * 32
    assert stored_bits(codec.encode(small_vectors)) == 8 * 32
    assert codec.model_bytes == 2 * 32 * 4


def test_int8_state_round_trip(small_vectors: np.ndarray) -> None:
    codec = Int8().fit(small_vectors)
    codes = codec.encode(small_vectors)
    loaded = build_codec(codec.config(), "int8")
    loaded.load_state(codec.state())
    assert loaded.input_dim == 32
    np.testing.assert_array_equal(loaded.encode(small_vectors), codes)
    np.testing.assert_array_equal(loaded.decode(codes), codec.decode(codes))


def test_int8_rejects_one_vector() -> None:
    with pytest.raises(
        ValueError, match=r"chain\[1\] needs at least 2 fit vectors .* got 1"
    ):
        Int8(key="chain[1]").fit(clustered(1, 8))


def test_int8_rejects_wrong_codes(small_vectors: np.ndarray) -> None:
    codec = Int8().fit(small_vectors)
    with pytest.raises(ValueError, match=r"decodes int8 codes of shape \(n, 32\)"):
        codec.decode(np.zeros((2, 32), dtype=np.uint8))


# -- binary ---------------------------------------------------------------------


def test_binary_round_trip(small_vectors: np.ndarray) -> None:
    codec = Binary().fit(small_vectors)
    codes = codec.encode(small_vectors)
    assert codes.dtype == np.uint8
    assert codes.shape == (2_000, 4)
    decoded = codec.decode(codes)
    assert decoded.dtype == np.float32
    assert decoded.shape == (2_000, 32)


def test_binary_encode_equals_library(small_vectors: np.ndarray) -> None:
    codes = Binary().fit(small_vectors).encode(small_vectors)
    unsigned = quantize_embeddings(small_vectors, precision="ubinary")
    signed = np.asarray(quantize_embeddings(small_vectors, precision="binary"))
    np.testing.assert_array_equal(codes, unsigned)
    np.testing.assert_array_equal(
        codes, (signed.astype(np.int16) + 128).astype(np.uint8)
    )


@pytest.mark.parametrize("dim", [32, 30])
def test_binary_decode_is_sign(dim: int) -> None:
    x = clustered(300, dim, seed=4)
    x[0, 0] = 0.0
    codec = Binary().fit(x)
    decoded = codec.decode(codec.encode(x))
    np.testing.assert_array_equal(decoded, np.where(x > 0, 1.0, -1.0))
    assert decoded[0, 0] == -1.0


@pytest.mark.parametrize("dim", [32, 30])
def test_binary_stored_bits(dim: int) -> None:
    x = clustered(50, dim, seed=5)
    codec = Binary().fit(x)
    assert codec.bits_per_vector == dim
    assert stored_bits(codec.encode(x)) == 8 * math.ceil(dim / 8)


def test_binary_cosine_is_affine_in_hamming(small_vectors: np.ndarray) -> None:
    codec = Binary().fit(small_vectors)
    codes = codec.encode(small_vectors[:100])
    decoded = codec.decode(codes)
    cosine = decoded @ decoded.T / 32
    bits = np.unpackbits(codes, axis=1)
    hamming = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
    np.testing.assert_allclose(cosine, 1 - 2 * hamming / 32)


def test_binary_state_round_trip() -> None:
    x = clustered(200, 30, seed=6)
    codec = Binary().fit(x)
    codes = codec.encode(x)
    loaded = build_codec(codec.config(), "binary")
    loaded.load_state(codec.state())
    assert loaded.input_dim == 30
    np.testing.assert_array_equal(loaded.encode(x), codes)
    np.testing.assert_array_equal(loaded.decode(codes), codec.decode(codes))


def test_binary_rejects_wrong_codes() -> None:
    codec = Binary().fit(clustered(50, 30))
    with pytest.raises(ValueError, match=r"decodes uint8 codes of shape \(n, 4\)"):
        codec.decode(np.zeros((2, 30), dtype=np.uint8))
