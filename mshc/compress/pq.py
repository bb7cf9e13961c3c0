"""Faiss quantizers as codecs: product quantization (PQ), OPQ and RaBitQ.

PQ splits each vector into `m` equal subvectors and stores, per subvector, the index
of its nearest centroid in a k-means codebook of 2**nbits entries. OPQ learns an
orthogonal rotation first, so that the subvectors quantize with less error. RaBitQ
stores the signs of a randomly rotated, centered vector and a few float factors.
The codes are the bytes that faiss itself produces (`compute_codes` or `sa_encode`),
so they can be searched with faiss directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import faiss
import numpy as np

from mshc.compress.base import Codec, FloatArray, Pairs
from mshc.config import check_positive_int, check_seed

# Faiss k-means warns below 39 training points per centroid
# (ClusteringParameters.min_points_per_centroid in faiss 1.15).
MIN_POINTS_PER_CENTROID = 39
MAX_NBITS = 16
# A 1-bit RaBitQ code stores two float32 factors after the sign bits:
# ||x - c||^2 and the dot-product multiplier that sa_decode scales the signs by.
RABITQ_FACTOR_BYTES = 8


def _check_nbits(nbits: Any, key: str) -> int:
    value = int(check_positive_int(nbits, key) or 0)
    if value > MAX_NBITS:
        raise ValueError(
            f"{key}={nbits} must be between 1 and {MAX_NBITS}, because this codec "
            f"indexes at most 2**{MAX_NBITS} centroids per subvector"
        )
    return value


def _nearby_divisors(d: int, m: int) -> list[int]:
    """Return up to two divisors of `d` below `m` and two above it, in order."""
    divisors = [k for k in range(1, d + 1) if d % k == 0]
    below = [k for k in divisors if k < m][-2:]
    above = [k for k in divisors if k > m][:2]
    return below + above


def check_pq_shape(m: int, nbits: int, n: int, input_dim: int, key: str) -> None:
    """Raise ValueError if a PQ of `m` x `nbits` cannot be trained on `n` x `input_dim`.

    Raises:
        ValueError: `m` does not divide `input_dim`, or `n` is below 39 training
            points per centroid.
    """
    if input_dim % m != 0:
        choices = ", ".join(str(k) for k in _nearby_divisors(input_dim, m))
        raise ValueError(
            f"{key}.m={m} does not divide the input dimension {input_dim}, but PQ "
            f"splits each vector into m subvectors of equal size. Set {key}.m to a "
            f"divisor of {input_dim}, such as {choices}"
        )
    centroids = 1 << nbits
    needed = MIN_POINTS_PER_CENTROID * centroids
    if n < needed:
        fits = max(0, int(np.floor(np.log2(max(n, 1) / MIN_POINTS_PER_CENTROID))))
        hint = f" (at most {fits} for {n} vectors)" if fits >= 1 else ""
        raise ValueError(
            f"{key}.nbits={nbits} needs {centroids} centroids per subvector, and "
            f"faiss k-means needs at least {MIN_POINTS_PER_CENTROID} training "
            f"vectors per centroid, so {needed} fit vectors, but got {n}. Lower "
            f"{key}.nbits{hint} or fit on more sentences"
        )


def check_codes(codes: np.ndarray, code_size: int, kind: str) -> np.ndarray:
    """Return `codes` as contiguous uint8 `(n, code_size)`, raising ValueError otherwise."""
    if codes.dtype != np.uint8 or codes.ndim != 2 or codes.shape[1] != code_size:
        raise ValueError(
            f"the {kind} codec decodes uint8 codes of shape (n, {code_size}), but got "
            f"{codes.dtype} codes of shape {codes.shape}"
        )
    return np.ascontiguousarray(codes)


def _reconstruction_mse(x: FloatArray, decoded: FloatArray) -> float:
    """Return the mean over rows of the squared L2 distance between `x` and `decoded`."""
    return float(np.mean(np.sum((x - decoded) ** 2, axis=1)))


def _copy_to_faiss(array: np.ndarray, vector: Any) -> None:
    faiss.copy_array_to_vector(
        np.ascontiguousarray(array, dtype=np.float32).ravel(), vector
    )


def _pq_centroids(pq: faiss.ProductQuantizer) -> np.ndarray:
    """Return the codebooks of `pq` as float32 `(m, 2**nbits, d / m)`."""
    flat = faiss.vector_to_array(pq.centroids)
    return flat.reshape(pq.M, pq.ksub, pq.dsub).astype(np.float32)


def _centroid_usage(codes: np.ndarray, m: int, nbits: int) -> float:
    """Return the fraction of the m * 2**nbits centroids that `codes` use at least once."""
    if nbits != 8:
        # Codes of other widths are bit-packed, so unpack them first. Faiss writes
        # each index least significant bit first, starting at bit i * nbits.
        bits = np.unpackbits(codes, axis=1, bitorder="little")[:, : m * nbits]
        weights = 1 << np.arange(nbits, dtype=np.int64)
        indices = (bits.reshape(len(codes), m, nbits).astype(np.int64) * weights).sum(2)
    else:
        indices = codes.astype(np.int64)
    used = sum(len(np.unique(indices[:, j])) for j in range(m))
    return used / (m << nbits)


class _ProductCodec(Codec):
    """Shared params, sizes and checks of the PQ and OPQ codecs."""

    def __init__(self, *, m: int, nbits: int, seed: int, key: str) -> None:
        super().__init__()
        self.key = key
        self.m = int(check_positive_int(m, f"{key}.m") or 0)
        self.nbits = _check_nbits(nbits, f"{key}.nbits")
        self.seed = check_seed(seed, f"{key}.seed")

    def output_dim(self, input_dim: int) -> int:
        """Return `input_dim`: decoded vectors live in the input space."""
        return input_dim

    def bits_for(self, input_dim: int) -> int:
        """Return m * nbits, one centroid index per subvector.

        Faiss pads a code to whole bytes, so m * nbits that is not a multiple of 8
        occupies 8 * ceil(m * nbits / 8) bits.
        """
        return self.m * self.nbits

    def check(self, n: int, input_dim: int, key: str) -> None:
        """Raise ValueError if `m` does not divide `input_dim` or `n` is too small."""
        check_pq_shape(self.m, self.nbits, n, input_dim, key)

    def config(self) -> dict[str, Any]:
        """Return kind, m, nbits and seed."""
        return {"kind": self.kind, "m": self.m, "nbits": self.nbits, "seed": self.seed}

    def _new_pq(self, input_dim: int) -> faiss.ProductQuantizer:
        pq = faiss.ProductQuantizer(input_dim, self.m, self.nbits)
        pq.cp.seed = self.seed
        return pq


class ProductQuantizer(_ProductCodec):
    """Product quantization with `faiss.ProductQuantizer`.

    Args:
        m: number of subvectors; must divide the input dimension.
        nbits: bits per subvector index, 1 to 16, so 2**nbits centroids each.
        seed: seed of faiss k-means.
        key: params.yaml path of this codec, used in error messages.

    Raises:
        ValueError: `m` or `nbits` out of range.
        TypeError: a param of the wrong type.
    """

    kind = "pq"

    def __init__(
        self, *, m: int = 16, nbits: int = 8, seed: int = 0, key: str = "pq"
    ) -> None:
        super().__init__(m=m, nbits=nbits, seed=seed, key=key)
        self.pq: faiss.ProductQuantizer | None = None

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> ProductQuantizer:
        """Train the codebooks on `x` with faiss k-means; `pairs` is ignored."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.check(x.shape[0], x.shape[1], self.key)
        self.input_dim = x.shape[1]
        pq = self._new_pq(self.input_dim)
        pq.train(x)
        self.pq = pq
        codes = self.encode(x)
        self.fit_stats = {
            "fit_mse": _reconstruction_mse(x, self.decode(codes)),
            "centroid_usage": _centroid_usage(codes, self.m, self.nbits),
        }
        return self

    def _trained(self) -> faiss.ProductQuantizer:
        self.fitted_dim  # noqa: B018 - raises RuntimeError before fit
        assert self.pq is not None
        return self.pq

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return faiss's PQ codes of `x`: uint8 rows of ceil(m * nbits / 8) bytes."""
        x = self.check_input(x)
        codes: np.ndarray = self._trained().compute_codes(x)
        return codes

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the concatenated centroids that `codes` index."""
        pq = self._trained()
        # The stubs of faiss 1.15.1 list only the C++ signature decode(codes, x).
        decoder = cast(Any, pq)
        decoded: FloatArray = decoder.decode(
            check_codes(codes, pq.code_size, self.kind)
        )
        return decoded

    def state(self) -> dict[str, np.ndarray]:
        """Return the codebooks as `centroids`, float32 `(m, 2**nbits, d / m)`."""
        return {"centroids": _pq_centroids(self._trained())}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Rebuild the faiss quantizer from `state()`'s centroids."""
        centroids = state["centroids"]
        self.input_dim = self.m * centroids.shape[2]
        pq = self._new_pq(self.input_dim)
        _copy_to_faiss(centroids, pq.centroids)
        self.pq = pq


class OPQ(_ProductCodec):
    """Product quantization after a learned rotation (faiss `OPQMatrix` + `IndexPQ`).

    The rotation starts from a random orthogonal matrix drawn from `seed` and
    alternates between PQ training and a Procrustes update (faiss defaults: 50
    iterations). A final PQ is then trained on the rotated vectors. Codes and
    decoding come from `IndexPreTransform.sa_encode` and `sa_decode`.

    NOTE: fits with the same seed give identical codes only at the same OpenMP
    thread count, because the last bits of the BLAS and LAPACK (sgesvd) results
    that update the rotation depend on it. On 3,000 x 32 vectors, fits with 1 and
    2 faiss threads gave different codes.

    Args:
        m: number of subvectors; must divide the input dimension.
        nbits: bits per subvector index, 1 to 16.
        seed: seed of the initial rotation and of faiss k-means.
        key: params.yaml path of this codec, used in error messages.

    Raises:
        ValueError: `m` or `nbits` out of range.
        TypeError: a param of the wrong type.
    """

    kind = "opq"

    def __init__(
        self, *, m: int = 16, nbits: int = 8, seed: int = 0, key: str = "opq"
    ) -> None:
        super().__init__(m=m, nbits=nbits, seed=seed, key=key)
        self.index: faiss.IndexPreTransform | None = None
        self._rotation: faiss.OPQMatrix | None = None
        self._index_pq: faiss.IndexPQ | None = None

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> OPQ:
        """Learn the rotation and the codebooks on `x`; `pairs` is ignored."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.check(x.shape[0], x.shape[1], self.key)
        d = x.shape[1]
        self.input_dim = d
        rotation = faiss.OPQMatrix(d, self.m)
        # Faiss starts from a fixed random rotation when A is empty, so seed it here.
        start, _ = np.linalg.qr(np.random.default_rng(self.seed).normal(size=(d, d)))
        _copy_to_faiss(start, rotation.A)
        # Without this, OPQMatrix trains its inner PQ with 8 bits and faiss's seed.
        inner_pq = self._new_pq(d)
        rotation.pq = inner_pq
        index_pq = faiss.IndexPQ(d, self.m, self.nbits)
        index_pq.pq.cp.seed = self.seed
        index = faiss.IndexPreTransform(rotation, index_pq)
        index.train(x)
        # Drop faiss's pointer to inner_pq, which Python frees when fit returns.
        rotation.pq = None
        self.index, self._rotation, self._index_pq = index, rotation, index_pq
        codes = self.encode(x)
        self.fit_stats = {
            "fit_mse": _reconstruction_mse(x, self.decode(codes)),
            "centroid_usage": _centroid_usage(codes, self.m, self.nbits),
        }
        return self

    def _trained(self) -> faiss.IndexPreTransform:
        self.fitted_dim  # noqa: B018 - raises RuntimeError before fit
        assert self.index is not None
        return self.index

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return the PQ codes of the rotated `x`: uint8 rows of ceil(m * nbits / 8) bytes."""
        x = self.check_input(x)
        codes: np.ndarray = self._trained().sa_encode(x)
        return codes

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the PQ reconstructions rotated back to the input space."""
        index = self._trained()
        checked = check_codes(codes, index.sa_code_size(), self.kind)
        decoded: FloatArray = index.sa_decode(checked)
        return decoded

    def state(self) -> dict[str, np.ndarray]:
        """Return `rotation` (d, d), applied as y = rotation @ x, and `centroids`."""
        self._trained()
        assert self._rotation is not None and self._index_pq is not None
        d = self.fitted_dim
        matrix = faiss.vector_to_array(self._rotation.A).reshape(d, d)
        return {
            "rotation": matrix.astype(np.float32),
            "centroids": _pq_centroids(self._index_pq.pq),
        }

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Rebuild the rotation and the PQ index from `state()`."""
        d = state["rotation"].shape[0]
        rotation = faiss.OPQMatrix(d, self.m)
        _copy_to_faiss(state["rotation"], rotation.A)
        rotation.is_trained = True
        rotation.is_orthonormal = True
        index_pq = faiss.IndexPQ(d, self.m, self.nbits)
        _copy_to_faiss(state["centroids"], index_pq.pq.centroids)
        index_pq.is_trained = True
        self.index = faiss.IndexPreTransform(rotation, index_pq)
        self._rotation, self._index_pq = rotation, index_pq
        self.input_dim = d


class RaBitQ(Codec):
    """1-bit RaBitQ with a seeded random rotation (faiss `RandomRotationMatrix` + `IndexRaBitQ`).

    Fitting stores the mean of the rotated fit vectors as the center c. A code is
    faiss's `sa_encode` output for one vector x, laid out as (faiss 1.15,
    RaBitQuantizer::compute_code_size):

    - ceil(d / 8) bytes: bit j is 1 when (Rx - c)_j > 0, least significant bit first;
    - 4 bytes: float32 ||Rx - c||^2, used by faiss's distance estimates;
    - 4 bytes: float32 dot-product multiplier.

    `sa_decode` returns R^T (c + sign * multiplier / sqrt(d)). Faiss's multi-bit
    RaBitQ (`nb_bits` > 1) stores extra bits, but faiss 1.15.1 `sa_decode` reads
    only the sign bits, so this codec offers the 1-bit variant alone.

    Args:
        seed: seed of the random rotation.
        key: params.yaml path of this codec, used in error messages.
    """

    kind = "rabitq"

    def __init__(self, *, seed: int = 0, key: str = "rabitq") -> None:
        super().__init__()
        self.key = key
        self.seed = check_seed(seed, f"{key}.seed")
        self.index: faiss.IndexPreTransform | None = None
        self._rotation: faiss.RandomRotationMatrix | None = None
        self._rabitq: faiss.IndexRaBitQ | None = None

    def output_dim(self, input_dim: int) -> int:
        """Return `input_dim`: decoded vectors live in the input space."""
        return input_dim

    def bits_for(self, input_dim: int) -> int:
        """Return 8 * (ceil(d / 8) + 8): the sign bits and two float32 factors."""
        return 8 * ((input_dim + 7) // 8 + RABITQ_FACTOR_BYTES)

    def check(self, n: int, input_dim: int, key: str) -> None:
        """Raise ValueError if there is no vector to compute the center from."""
        if n < 1:
            raise ValueError(
                f"{key} needs at least 1 fit vector for its center, got {n}"
            )

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> RaBitQ:
        """Draw the rotation from `seed` and center the rotated `x`; `pairs` is ignored."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.check(x.shape[0], x.shape[1], self.key)
        d = x.shape[1]
        self.input_dim = d
        rotation = faiss.RandomRotationMatrix(d, d)
        # init() marks the rotation trained, so index.train keeps it and does not
        # draw faiss's default seed.
        rotation.init(self.seed)
        rabitq = faiss.IndexRaBitQ(d, faiss.METRIC_L2)
        index = faiss.IndexPreTransform(rotation, rabitq)
        index.train(x)
        self.index, self._rotation, self._rabitq = index, rotation, rabitq
        self.fit_stats = {
            "fit_mse": _reconstruction_mse(x, self.decode(self.encode(x)))
        }
        return self

    def _trained(self) -> faiss.IndexPreTransform:
        self.fitted_dim  # noqa: B018 - raises RuntimeError before fit
        assert self.index is not None
        return self.index

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return faiss's RaBitQ codes of `x`: uint8 rows of ceil(d / 8) + 8 bytes."""
        x = self.check_input(x)
        codes: np.ndarray = self._trained().sa_encode(x)
        return codes

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return faiss's `sa_decode` of `codes`: scaled signs plus the center, rotated back."""
        index = self._trained()
        checked = check_codes(codes, index.sa_code_size(), self.kind)
        decoded: FloatArray = index.sa_decode(checked)
        return decoded

    def config(self) -> dict[str, Any]:
        """Return kind and seed."""
        return {"kind": self.kind, "seed": self.seed}

    def state(self) -> dict[str, np.ndarray]:
        """Return `rotation` (d, d), applied as y = rotation @ x, and `center` (d,)."""
        self._trained()
        assert self._rotation is not None and self._rabitq is not None
        d = self.fitted_dim
        matrix = faiss.vector_to_array(self._rotation.A).reshape(d, d)
        center = faiss.vector_to_array(self._rabitq.center)
        return {
            "rotation": matrix.astype(np.float32),
            "center": center.astype(np.float32),
        }

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Rebuild the rotation and the RaBitQ index from `state()`."""
        d = state["rotation"].shape[0]
        rotation = faiss.RandomRotationMatrix(d, d)
        _copy_to_faiss(state["rotation"], rotation.A)
        rotation.is_trained = True
        rotation.is_orthonormal = True
        rabitq = faiss.IndexRaBitQ(d, faiss.METRIC_L2)
        _copy_to_faiss(state["center"], rabitq.center)
        rabitq.is_trained = True
        self.index = faiss.IndexPreTransform(rotation, rabitq)
        self._rotation, self._rabitq = rotation, rabitq
        self.input_dim = d
