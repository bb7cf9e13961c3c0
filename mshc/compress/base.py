"""The codec contract shared by every compression stage, and the chain that runs them.

A codec maps float32 vectors `(n, d)` to stored codes and back. Codes are either
float arrays (a kept MRL prefix) or `uint8` rows of bit-packed integers, so the
bytes of a code row are exactly `ceil(bits_per_vector / 8)`. Everything a codec learns
is returned by `state()` as numpy arrays, and their total size is its model bytes.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
FLOAT32_BITS = 32


@dataclass(frozen=True)
class Pairs:
    """Scored sentence pairs for supervised fitting, as row indices into the fit matrix.

    `scores` are gold similarities on the dataset's own scale (0-5 for STS).
    """

    left: IntArray
    right: IntArray
    scores: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        if not len(self.left) == len(self.right) == len(self.scores):
            raise ValueError(
                f"pairs have {len(self.left)} left, {len(self.right)} right and "
                f"{len(self.scores)} scores; every pair needs one of each"
            )


class Codec(ABC):
    """One compression stage: `fit`, `encode`, `decode` and the exact cost of its codes.

    Subclasses set `kind` (the name used in params.yaml) and take their params as
    keyword arguments, checked in `__init__` with messages that name the param.
    """

    kind: ClassVar[str]

    def __init__(self) -> None:
        self.input_dim: int | None = None
        # Diagnostics of the last fit (losses, codebook usage, ...), logged to MLflow.
        self.fit_stats: dict[str, float] = {}

    @abstractmethod
    def output_dim(self, input_dim: int) -> int:
        """Return the dimension of decoded vectors for inputs of `input_dim`."""

    @abstractmethod
    def bits_for(self, input_dim: int) -> int:
        """Return the exact stored bits per vector for inputs of `input_dim`."""

    def check(self, n: int, input_dim: int, key: str) -> None:
        """Raise ValueError if fitting on `n` vectors of `input_dim` cannot work.

        Called before any training starts; `key` is the params.yaml path of this
        codec, for the message. The default accepts every shape.
        """
        return None

    @abstractmethod
    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> Codec:
        """Learn the codec's state from `x` (and `pairs` where the codec uses them)."""

    @abstractmethod
    def encode(self, x: FloatArray) -> np.ndarray:
        """Return the stored codes of `x`: one row per vector."""

    @abstractmethod
    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the float32 vectors that `codes` stand for."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Return the params that rebuild this codec, with `kind` first."""

    @abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """Return everything `fit` learned, as numpy arrays."""

    @abstractmethod
    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what `state` returned, on a codec built from the same config."""

    @property
    def bits_per_vector(self) -> int:
        """Exact stored bits per vector of the fitted codec."""
        return self.bits_for(self.fitted_dim)

    @property
    def model_bytes(self) -> int:
        """Bytes of side data (codebooks, weights, ranges) kept beside the codes."""
        return int(sum(a.nbytes for a in self.state().values()))

    @property
    def fitted_dim(self) -> int:
        """Input dimension seen by `fit`.

        Raises:
            RuntimeError: the codec has not been fitted.
        """
        if self.input_dim is None:
            raise RuntimeError(
                f"the {self.kind} codec is not fitted; call fit() before using it"
            )
        return self.input_dim

    def check_input(self, x: np.ndarray) -> FloatArray:
        """Return `x` as float32 `(n, fitted_dim)`, raising ValueError on another shape."""
        if x.ndim != 2 or x.shape[1] != self.fitted_dim:
            raise ValueError(
                f"the {self.kind} codec was fitted on {self.fitted_dim}-dim vectors, "
                f"but got an array of shape {x.shape}"
            )
        return np.ascontiguousarray(x, dtype=np.float32)


def stored_bits(codes: np.ndarray) -> int:
    """Return the bits one row of `codes` occupies in memory."""
    return int(codes.dtype.itemsize * 8 * int(np.prod(codes.shape[1:])))


def bits_for_count(count: int) -> int:
    """Return the bits of an index into `count` items: ceil(log2(count)), at least 1."""
    return max(1, math.ceil(math.log2(count)))


def pack_bits(values: np.ndarray, width: int) -> npt.NDArray[np.uint8]:
    """Pack non-negative integers `(n, k)` of `width` bits each into `uint8` rows.

    Row i contains its k values back to back, most significant bit first, padded with
    zero bits to `ceil(k * width / 8)` bytes.

    Raises:
        ValueError: a value is negative or needs more than `width` bits.
    """
    values = np.asarray(values, dtype=np.int64)
    if values.ndim != 2:
        raise ValueError(f"pack_bits takes a 2-d array, got shape {values.shape}")
    if values.size and (values.min() < 0 or values.max() >= 1 << width):
        raise ValueError(
            f"values span [{values.min()}, {values.max()}], outside the "
            f"{width}-bit range [0, {(1 << width) - 1}]"
        )
    shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
    bits = ((values[:, :, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bits.reshape(values.shape[0], -1), axis=1)


def unpack_bits(codes: np.ndarray, width: int, count: int) -> IntArray:
    """Invert `pack_bits`: return `(n, count)` integers of `width` bits each."""
    bits = np.unpackbits(np.asarray(codes, dtype=np.uint8), axis=1)
    bits = bits[:, : count * width].reshape(codes.shape[0], count, width)
    weights = 1 << np.arange(width - 1, -1, -1, dtype=np.int64)
    return (bits.astype(np.int64) * weights).sum(axis=2)


class Chain:
    """Codecs applied in order: each fits on and encodes the previous one's decoded output.

    The stored representation is the last codec's code, so its bits set the
    compression ratio; the earlier codecs' states count as model bytes.
    """

    def __init__(self, codecs: Sequence[Codec], keys: Sequence[str] | None = None):
        if not codecs:
            raise ValueError("a chain needs at least one codec")
        self.codecs = list(codecs)
        self.keys = list(keys) if keys is not None else [c.kind for c in codecs]

    def check(self, n: int, input_dim: int, parent_bits: int | None = None) -> None:
        """Raise ValueError before any fit if a codec cannot fit or the bits grow.

        Args:
            n: number of fit vectors.
            input_dim: dimension of the chain's input.
            parent_bits: stored bits of what feeds the chain; float32 input when None.
        """
        bits = FLOAT32_BITS * input_dim if parent_bits is None else parent_bits
        source = "the float32 input" if parent_bits is None else "its input"
        dim = input_dim
        for key, codec in zip(self.keys, self.codecs, strict=True):
            codec.check(n, dim, key)
            new_bits = codec.bits_for(dim)
            if new_bits > bits:
                raise ValueError(
                    f"{key} stores {new_bits} bits per vector, more than the {bits} "
                    f"of {source}, so the chain would grow the bits; choose params "
                    f"that store fewer bits, or drop this codec"
                )
            bits, dim = new_bits, codec.output_dim(dim)
            source = key

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> FloatArray:
        """Fit every codec in order and return the decoded output of the last one."""
        self.check(x.shape[0], x.shape[1])
        current = x
        for codec in self.codecs:
            codec.fit(current, pairs)
            current = codec.decode(codec.encode(current))
        return current

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return the last codec's codes of `x`."""
        current = x
        for codec in self.codecs[:-1]:
            current = codec.decode(codec.encode(current))
        return self.codecs[-1].encode(current)

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the vectors that the last codec's `codes` stand for."""
        return self.codecs[-1].decode(codes)

    @property
    def bits_per_vector(self) -> int:
        """Exact stored bits per vector: those of the last codec."""
        return self.codecs[-1].bits_per_vector

    @property
    def model_bytes(self) -> int:
        """Side data of every codec in the chain."""
        return sum(c.model_bytes for c in self.codecs)

    def config(self) -> list[dict[str, Any]]:
        """Return each codec's config, in order."""
        return [c.config() for c in self.codecs]
