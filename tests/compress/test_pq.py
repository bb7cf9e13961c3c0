"""Faiss PQ, OPQ and RaBitQ codecs: exact codes, bits, errors and state round trips."""

from __future__ import annotations

import math
from collections.abc import Iterator

import faiss
import numpy as np
import pytest

from mshc.compress import build_codec
from mshc.compress.base import Codec, stored_bits
from mshc.compress.pq import OPQ, ProductQuantizer, RaBitQ
from tests.compress.conftest import clustered


@pytest.fixture(scope="module", autouse=True)
def one_faiss_thread() -> Iterator[None]:
    # On a 2-core machine with other busy processes, faiss k-means with one OpenMP
    # thread per core ran 10 to 80 times slower than with one thread. Module scope
    # sets it before the module-scoped fits below.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    """3,000 clustered unit vectors of 32 dims: enough for nbits <= 6."""
    return clustered(3_000, 32, seed=1)


def mse(codec: Codec, x: np.ndarray) -> float:
    decoded = codec.decode(codec.encode(x))
    return float(np.mean(np.sum((x - decoded) ** 2, axis=1)))


def unpack_faiss_codes(codes: np.ndarray, m: int, nbits: int) -> np.ndarray:
    """Read faiss's PQ layout: index j at bits j * nbits onward, least significant first."""
    bits = np.unpackbits(codes, axis=1, bitorder="little")[:, : m * nbits]
    weights = 1 << np.arange(nbits, dtype=np.int64)
    return (bits.reshape(len(codes), m, nbits).astype(np.int64) * weights).sum(axis=2)


def nearest_centroids(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Return (n, m) indices of the nearest centroid per subvector, in float64."""
    m, _, dsub = centroids.shape
    sub = x.astype(np.float64).reshape(len(x), m, dsub)
    indices = np.empty((len(x), m), dtype=np.int64)
    for j in range(m):
        diff = sub[:, j, None, :] - centroids[j].astype(np.float64)[None]
        indices[:, j] = np.argmin(np.sum(diff**2, axis=2), axis=1)
    return indices


# -- PQ -------------------------------------------------------------------------


def test_pq_round_trip(data: np.ndarray) -> None:
    codec = ProductQuantizer(m=8, nbits=4).fit(data)
    codes = codec.encode(data)
    assert codes.dtype == np.uint8
    assert codes.shape == (3_000, 4)
    decoded = codec.decode(codes)
    assert decoded.dtype == np.float32
    assert decoded.shape == data.shape
    assert codec.output_dim(32) == 32
    assert set(codec.fit_stats) == {"fit_mse", "centroid_usage"}


@pytest.mark.parametrize(("m", "nbits"), [(8, 4), (8, 5), (4, 3), (16, 2), (2, 6)])
def test_pq_stored_bits(data: np.ndarray, m: int, nbits: int) -> None:
    codec = ProductQuantizer(m=m, nbits=nbits).fit(data)
    codes = codec.encode(data)
    assert codec.bits_per_vector == m * nbits
    assert stored_bits(codes) == 8 * math.ceil(m * nbits / 8)


@pytest.mark.parametrize(
    ("m", "nbits", "n", "dim"), [(2, 8, 10_000, 8), (8, 5, 3_000, 32)]
)
def test_pq_codes_match_brute_force(m: int, nbits: int, n: int, dim: int) -> None:
    x = clustered(n, dim, seed=2)
    codec = ProductQuantizer(m=m, nbits=nbits).fit(x)
    centroids = codec.state()["centroids"]
    assert centroids.shape == (m, 2**nbits, dim // m)
    expected = nearest_centroids(x, centroids)
    np.testing.assert_array_equal(
        unpack_faiss_codes(codec.encode(x), m, nbits), expected
    )


def test_pq_decode_is_centroids(data: np.ndarray) -> None:
    codec = ProductQuantizer(m=8, nbits=5).fit(data)
    codes = codec.encode(data)
    centroids = codec.state()["centroids"]
    indices = unpack_faiss_codes(codes, 8, 5)
    expected = centroids[np.arange(8), indices].reshape(len(data), 32)
    np.testing.assert_array_equal(codec.decode(codes), expected)


def test_pq_error_falls_as_m_grows(data: np.ndarray) -> None:
    errors = [
        mse(ProductQuantizer(m=m, nbits=4).fit(data), data) for m in (2, 4, 8, 16)
    ]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 0.5 * errors[0]


def test_pq_error_falls_as_nbits_grows(data: np.ndarray) -> None:
    errors = [mse(ProductQuantizer(m=8, nbits=b).fit(data), data) for b in (1, 2, 4, 6)]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 0.5 * errors[0]


def test_pq_rejects_m_not_dividing_dim() -> None:
    codec = build_codec({"kind": "pq", "m": 5, "nbits": 4}, "ablations.pq.chain[0]")
    with pytest.raises(
        ValueError,
        match=r"ablations.pq.chain\[0\].m=5 does not divide the input dimension 32.*"
        r"Set ablations.pq.chain\[0\].m to a divisor of 32, such as 2, 4, 8, 16$",
    ):
        codec.check(3_000, 32, "ablations.pq.chain[0]")


def test_pq_rejects_too_few_vectors() -> None:
    codec = ProductQuantizer(m=8, nbits=8, key="chain[0]")
    with pytest.raises(
        ValueError,
        match=r"chain\[0\].nbits=8 needs 256 centroids per subvector, and faiss "
        r"k-means needs at least 39 training vectors per centroid, so 9984 fit "
        r"vectors, but got 1000. Lower chain\[0\].nbits \(at most 4 for 1000 "
        r"vectors\) or fit on more sentences",
    ):
        codec.check(1_000, 64, "chain[0]")


def test_pq_fit_checks_shape_first() -> None:
    codec = ProductQuantizer(m=8, nbits=6, key="chain[0]")
    with pytest.raises(ValueError, match=r"chain\[0\].nbits=6 needs 64 centroids"):
        codec.fit(clustered(500, 32))
    assert codec.input_dim is None


def test_pq_accepts_enough_vectors() -> None:
    ProductQuantizer(m=8, nbits=8).check(9_984, 64, "pq")


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"m": 0}, ValueError, r"pq.m=0 must be at least 1"),
        ({"nbits": 17}, ValueError, r"pq.nbits=17 must be between 1 and 16, because"),
        ({"nbits": "8"}, TypeError, r"pq.nbits='8' has type str"),
        ({"seed": -1}, ValueError, r"pq.seed=-1 must be 0 or more"),
    ],
)
def test_pq_rejects_invalid_params(
    params: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build_codec({"kind": "pq", **params}, "pq")


def test_pq_state_round_trip(data: np.ndarray) -> None:
    codec = ProductQuantizer(m=8, nbits=5, seed=3).fit(data)
    codes = codec.encode(data)
    loaded = build_codec(codec.config(), "pq")
    loaded.load_state(codec.state())
    assert loaded.input_dim == 32
    np.testing.assert_array_equal(loaded.encode(data), codes)
    np.testing.assert_array_equal(loaded.decode(codes), codec.decode(codes))
    assert codec.model_bytes == 32 * 2**5 * 4


def test_pq_config_rebuilds() -> None:
    codec = ProductQuantizer(m=4, nbits=6, seed=7)
    assert codec.config() == {"kind": "pq", "m": 4, "nbits": 6, "seed": 7}
    assert build_codec(codec.config(), "pq").config() == codec.config()


def test_pq_same_seed_same_codes(data: np.ndarray) -> None:
    first = ProductQuantizer(m=8, nbits=4, seed=5).fit(data).encode(data)
    second = ProductQuantizer(m=8, nbits=4, seed=5).fit(data).encode(data)
    other = ProductQuantizer(m=8, nbits=4, seed=6).fit(data).encode(data)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_pq_rejects_wrong_codes(data: np.ndarray) -> None:
    codec = ProductQuantizer(m=8, nbits=4).fit(data)
    with pytest.raises(ValueError, match=r"decodes uint8 codes of shape \(n, 4\)"):
        codec.decode(np.zeros((3, 8), dtype=np.uint8))


def test_pq_encode_before_fit() -> None:
    with pytest.raises(RuntimeError, match="the pq codec is not fitted"):
        ProductQuantizer().encode(np.zeros((2, 32), dtype=np.float32))


# -- OPQ ------------------------------------------------------------------------


def correlated(n: int, dim: int, seed: int) -> np.ndarray:
    """Return unit vectors whose dims are mixed by a random matrix, so they correlate."""
    rng = np.random.default_rng(seed)
    scale = np.linspace(2.0, 0.1, dim)
    mixing = rng.normal(size=(dim, dim))
    x = (rng.normal(size=(n, dim)) * scale) @ mixing
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def opq_fitted() -> tuple[OPQ, np.ndarray]:
    x = correlated(3_000, 32, seed=4)
    return OPQ(m=8, nbits=4, seed=2).fit(x), x


def test_opq_round_trip(opq_fitted: tuple[OPQ, np.ndarray]) -> None:
    codec, x = opq_fitted
    codes = codec.encode(x)
    assert codes.dtype == np.uint8
    assert codes.shape == (3_000, 4)
    assert stored_bits(codes) == codec.bits_per_vector == 32
    decoded = codec.decode(codes)
    assert decoded.dtype == np.float32
    assert decoded.shape == x.shape


def test_opq_rotation_is_orthogonal(opq_fitted: tuple[OPQ, np.ndarray]) -> None:
    rotation = opq_fitted[0].state()["rotation"]
    assert rotation.shape == (32, 32)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(32), atol=1e-5)


def test_opq_codes_are_pq_of_rotated(opq_fitted: tuple[OPQ, np.ndarray]) -> None:
    codec, x = opq_fitted
    state = codec.state()
    rotated = x @ state["rotation"].T
    expected = nearest_centroids(rotated, state["centroids"])
    np.testing.assert_array_equal(unpack_faiss_codes(codec.encode(x), 8, 4), expected)


def test_opq_error_below_pq(opq_fitted: tuple[OPQ, np.ndarray]) -> None:
    codec, x = opq_fitted
    pq_error = mse(ProductQuantizer(m=8, nbits=4, seed=2).fit(x), x)
    assert mse(codec, x) < pq_error


def test_opq_state_round_trip(opq_fitted: tuple[OPQ, np.ndarray]) -> None:
    codec, x = opq_fitted
    codes = codec.encode(x)
    loaded = build_codec(codec.config(), "opq")
    loaded.load_state(codec.state())
    assert loaded.input_dim == 32
    np.testing.assert_array_equal(loaded.encode(x), codes)
    np.testing.assert_array_equal(loaded.decode(codes), codec.decode(codes))
    assert codec.model_bytes == (32 * 32 + 32 * 2**4) * 4


def test_opq_same_seed_same_codes(opq_fitted: tuple[OPQ, np.ndarray]) -> None:
    codec, x = opq_fitted
    again = OPQ(m=8, nbits=4, seed=2).fit(x)
    np.testing.assert_array_equal(again.encode(x), codec.encode(x))


def test_opq_rejects_m_not_dividing_dim() -> None:
    with pytest.raises(
        ValueError, match=r"opq.m=3 does not divide .* such as 1, 2, 4, 8$"
    ):
        OPQ(m=3).check(10_000, 16, "opq")


# -- RaBitQ ---------------------------------------------------------------------


@pytest.mark.parametrize("dim", [32, 30, 64])
def test_rabitq_bits_match_faiss(dim: int) -> None:
    x = clustered(500, dim, seed=3)
    codec = RaBitQ().fit(x)
    codes = codec.encode(x)
    quantizer = faiss.RaBitQuantizer(dim, faiss.METRIC_L2)
    assert codec.bits_for(dim) == 8 * quantizer.code_size
    assert stored_bits(codes) == 8 * math.ceil(codec.bits_for(dim) / 8)
    assert codes.dtype == np.uint8


def test_rabitq_codes_and_decode_match_reference() -> None:
    x = clustered(1_000, 32, seed=5)
    codec = RaBitQ(seed=9).fit(x)
    codes = codec.encode(x)
    state = codec.state()
    rotation, center = state["rotation"], state["center"]
    residual = x @ rotation.T - center
    np.testing.assert_allclose(center, (x @ rotation.T).mean(axis=0), atol=1e-6)

    signs = np.packbits(residual > 0, axis=1, bitorder="little")
    np.testing.assert_array_equal(codes[:, :4], signs)
    factors = codes[:, 4:].copy().view(np.float32)
    np.testing.assert_allclose(factors[:, 0], np.sum(residual**2, axis=1), rtol=1e-5)

    plus_minus = np.where(residual > 0, 1.0, -1.0)
    rotated = center + plus_minus * factors[:, 1:2] / np.sqrt(32)
    np.testing.assert_allclose(codec.decode(codes), rotated @ rotation, atol=1e-5)


def test_rabitq_state_round_trip() -> None:
    x = clustered(1_000, 32, seed=6)
    codec = RaBitQ(seed=4).fit(x)
    codes = codec.encode(x)
    loaded = build_codec(codec.config(), "rabitq")
    loaded.load_state(codec.state())
    assert loaded.input_dim == 32
    np.testing.assert_array_equal(loaded.encode(x), codes)
    np.testing.assert_array_equal(loaded.decode(codes), codec.decode(codes))
    assert codec.model_bytes == (32 * 32 + 32) * 4


def test_rabitq_seed_sets_rotation() -> None:
    x = clustered(1_000, 32, seed=7)
    first = RaBitQ(seed=1).fit(x).state()["rotation"]
    second = RaBitQ(seed=1).fit(x).state()["rotation"]
    other = RaBitQ(seed=2).fit(x).state()["rotation"]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_rabitq_rotation_beats_no_rotation() -> None:
    x = clustered(2_000, 32, seed=8)
    plain = faiss.IndexRaBitQ(32, faiss.METRIC_L2)
    plain.train(x)
    plain_decoded = plain.sa_decode(plain.sa_encode(x))
    plain_error = float(np.mean(np.sum((x - plain_decoded) ** 2, axis=1)))
    assert mse(RaBitQ().fit(x), x) < plain_error
