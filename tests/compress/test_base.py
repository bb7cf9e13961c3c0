"""The shared codec contract: bit packing, the registry and the chain's checks."""

from __future__ import annotations

import numpy as np
import pytest

from mshc.compress import build_chain, build_codec
from mshc.compress.base import bits_for_count, pack_bits, stored_bits, unpack_bits


@pytest.mark.parametrize("width", [1, 3, 8, 10, 12, 13])
def test_pack_bits_round_trip(width: int) -> None:
    rng = np.random.default_rng(width)
    values = rng.integers(0, 1 << width, size=(50, 7))
    packed = pack_bits(values, width)
    assert packed.dtype == np.uint8
    assert packed.shape == (50, -(-7 * width // 8))
    np.testing.assert_array_equal(unpack_bits(packed, width, 7), values)


def test_pack_bits_pads_with_zeros() -> None:
    packed = pack_bits(np.array([[1, 1, 1]]), 3)  # 9 bits -> 2 bytes
    assert packed.tolist() == [[0b00100100, 0b10000000]]
    assert stored_bits(packed) == 16


def test_pack_bits_rejects_wide_value() -> None:
    with pytest.raises(ValueError, match=r"outside the 4-bit range \[0, 15\]"):
        pack_bits(np.array([[16]]), 4)


def test_bits_for_count() -> None:
    assert [bits_for_count(c) for c in (1, 2, 3, 256, 257, 4096)] == [1, 1, 2, 8, 9, 12]


def test_build_codec_unknown_kind() -> None:
    with pytest.raises(
        ValueError, match=r"unknown codec kind 'pqq'.*did you mean 'pq'"
    ):
        build_codec({"kind": "pqq"}, "ablations.x.chain[0]")


def test_build_codec_missing_kind() -> None:
    with pytest.raises(ValueError, match=r"ablations.x.chain\[0\] has no 'kind'"):
        build_codec({"m": 8}, "ablations.x.chain[0]")


def test_build_codec_unknown_param() -> None:
    with pytest.raises(
        ValueError, match=r"unknown pq param 'nbit'.*did you mean 'nbits'"
    ):
        build_codec({"kind": "pq", "m": 8, "nbit": 8}, "ablations.x.chain[0]")


def test_chain_rejects_growing_bits() -> None:
    chain = build_chain(
        [{"kind": "pq", "m": 8, "nbits": 8}, {"kind": "int8"}], "ablations.x.chain"
    )
    with pytest.raises(
        ValueError,
        match=r"ablations.x.chain\[1\] stores 512 bits per vector, more than the 64 of "
        r"ablations.x.chain\[0\], so the chain would grow the bits",
    ):
        chain.check(10_000, 64)


def test_chain_rejects_growing_parent_bits() -> None:
    chain = build_chain([{"kind": "int8"}], "ablations.x.chain")
    with pytest.raises(ValueError, match=r"more than the 256 of its input"):
        chain.check(10_000, 64, parent_bits=256)
