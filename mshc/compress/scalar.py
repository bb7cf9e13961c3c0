"""Scalar quantization with sentence-transformers' `quantize_embeddings`: int8 and binary.

`Int8` maps each dimension to 256 buckets between the per-dim min and max of the fit
vectors. `Binary` keeps one sign bit per dimension. Encoding calls the library, so
the codes are exactly those that sentence-transformers users get.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np

# Imported with the module, which the codec registry loads only when a chain uses
# int8 or binary, so that the import is not counted in fit seconds.
from sentence_transformers import quantize_embeddings

from mshc.compress.base import Codec, FloatArray, Pairs
from mshc.config import check_seed

# quantize_embeddings splits each dim's [min, max] into this many equal steps.
INT8_STEPS = 255


def _quantize(x: FloatArray, precision: str, ranges: np.ndarray | None) -> np.ndarray:
    codes = quantize_embeddings(x, precision=precision, ranges=ranges)  # type: ignore[arg-type]
    return cast(np.ndarray, codes)


def _check_codes(codes: np.ndarray, dtype: type, width: int, kind: str) -> np.ndarray:
    if codes.dtype != dtype or codes.ndim != 2 or codes.shape[1] != width:
        raise ValueError(
            f"the {kind} codec decodes {np.dtype(dtype)} codes of shape (n, {width}), "
            f"but got {codes.dtype} codes of shape {codes.shape}"
        )
    return codes


def _reconstruction_mse(x: FloatArray, decoded: FloatArray) -> float:
    """Return the mean over rows of the squared L2 distance between `x` and `decoded`."""
    return float(np.mean(np.sum((x - decoded) ** 2, axis=1)))


class Int8(Codec):
    """Per-dim int8 scalar quantization, calibrated on the fit vectors.

    `fit` stores `ranges` (2, d): the per-dim min and max of the fit vectors. Encoding
    is `quantize_embeddings(x, precision="int8", ranges=ranges)`, which computes
    q = clip(floor((x - min) / step), 0, 255) with step = (max - min) / 255 (1 where
    max == min) and stores q - 128 as int8.

    Args:
        seed: unused, because the codec has no randomness; accepted like every codec's.
        key: params.yaml path of this codec, used in error messages.
    """

    kind = "int8"

    def __init__(self, *, seed: int = 0, key: str = "int8") -> None:
        super().__init__()
        self.key = key
        self.seed = check_seed(seed, f"{key}.seed")
        self.ranges: np.ndarray | None = None

    def output_dim(self, input_dim: int) -> int:
        """Return `input_dim`."""
        return input_dim

    def bits_for(self, input_dim: int) -> int:
        """Return 8 * d, one byte per dimension."""
        return 8 * input_dim

    def check(self, n: int, input_dim: int, key: str) -> None:
        """Raise ValueError if `n` is too small to give a per-dim range."""
        if n < 2:
            raise ValueError(
                f"{key} needs at least 2 fit vectors to compute the per-dim min and "
                f"max, got {n}"
            )

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> Int8:
        """Store the per-dim min and max of `x` as the ranges; `pairs` is ignored."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.check(x.shape[0], x.shape[1], self.key)
        self.input_dim = x.shape[1]
        self.ranges = np.vstack([x.min(axis=0), x.max(axis=0)]).astype(np.float32)
        self.fit_stats = {
            "fit_mse": _reconstruction_mse(x, self.decode(self.encode(x))),
            "constant_dims": float(np.sum(self.ranges[0] == self.ranges[1])),
        }
        return self

    def _ranges(self) -> np.ndarray:
        self.fitted_dim  # noqa: B018 - raises RuntimeError before fit
        assert self.ranges is not None
        return self.ranges

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return `quantize_embeddings(x, "int8", ranges)`: int8 `(n, d)`."""
        x = self.check_input(x)
        return _quantize(x, "int8", self._ranges())

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the center of each code's bucket, clipped to the per-dim range.

        This inverts `encode` with a max error of half a step for values inside the
        range. sentence-transformers' own dequantization returns the lower bucket
        edge instead, with a max error of one step. A value above the max is
        encoded as bucket 255 and decoded as the max, and a value below the min is
        decoded as min + step / 2.
        """
        ranges = self._ranges()
        codes = _check_codes(codes, np.int8, self.fitted_dim, self.kind)
        # Same float32 arithmetic as quantize_embeddings, so the buckets match.
        starts = ranges[0]
        steps = (ranges[1] - starts) / INT8_STEPS
        steps = np.where(steps == 0, 1, steps).astype(np.float32)
        buckets = codes.astype(np.float32) + 128
        decoded = starts + (buckets + 0.5) * steps
        return np.clip(decoded, ranges[0], ranges[1]).astype(np.float32)

    def config(self) -> dict[str, Any]:
        """Return kind and seed."""
        return {"kind": self.kind, "seed": self.seed}

    def state(self) -> dict[str, np.ndarray]:
        """Return `ranges`: float32 (2, d), the per-dim min and max."""
        return {"ranges": self._ranges().copy()}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore the ranges from `state()`."""
        self.ranges = np.asarray(state["ranges"], dtype=np.float32).copy()
        self.input_dim = self.ranges.shape[1]


class Binary(Codec):
    """One sign bit per dimension, packed 8 to a byte.

    Encoding is `quantize_embeddings(x, precision="ubinary")`, which is
    `np.packbits(x > 0)`: uint8 rows of ceil(d / 8) bytes, most significant bit
    first, with zero padding bits when d is not a multiple of 8. (`precision=
    "binary"` stores the same bytes minus 128 as int8.) Decoding returns +1 or -1
    per dim, so the cosine of two decoded vectors is 1 - 2 * hamming / d.

    Args:
        seed: unused, because the codec has no randomness; accepted like every codec's.
        key: params.yaml path of this codec, used in error messages.
    """

    kind = "binary"

    def __init__(self, *, seed: int = 0, key: str = "binary") -> None:
        super().__init__()
        self.key = key
        self.seed = check_seed(seed, f"{key}.seed")

    def output_dim(self, input_dim: int) -> int:
        """Return `input_dim`."""
        return input_dim

    def bits_for(self, input_dim: int) -> int:
        """Return d, one bit per dimension; storage pads it to whole bytes."""
        return input_dim

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> Binary:
        """Record the input dimension; nothing is learned, and `pairs` is ignored."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.input_dim = x.shape[1]
        self.fit_stats = {"positive_fraction": float(np.mean(x > 0))}
        return self

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return `quantize_embeddings(x, "ubinary")`: uint8 `(n, ceil(d / 8))`."""
        x = self.check_input(x)
        return _quantize(x, "ubinary", None)

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return +1 where a dim was positive and -1 elsewhere, as float32 `(n, d)`."""
        d = self.fitted_dim
        codes = _check_codes(codes, np.uint8, (d + 7) // 8, self.kind)
        bits = np.unpackbits(codes, axis=1, count=d)
        return (bits.astype(np.float32) * 2 - 1).astype(np.float32)

    def config(self) -> dict[str, Any]:
        """Return kind and seed."""
        return {"kind": self.kind, "seed": self.seed}

    def state(self) -> dict[str, np.ndarray]:
        """Return `dim`, the input dimension that decoding needs: nothing is learned."""
        self.fitted_dim  # noqa: B018 - raises RuntimeError before fit
        return {"dim": np.array([self.fitted_dim], dtype=np.int64)}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore the input dimension from `state()`."""
        self.input_dim = int(state["dim"][0])
