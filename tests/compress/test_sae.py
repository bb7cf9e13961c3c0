"""TopK sparse autoencoder: packed codes, sparsity, quantization, dead latents, messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mshc.compress import build_codec
from mshc.compress.base import stored_bits
from mshc.compress.sae import TopKSAE

FAST = {"hidden": 128, "epochs": 4, "batch_size": 256, "lr": 0.003}


def fit_sae(x: np.ndarray, **params: object) -> TopKSAE:
    codec = build_codec({"kind": "sae", **FAST, **params}, "sae")
    assert isinstance(codec, TopKSAE)
    return codec.fit(x)


def mean_squared_error(codec: TopKSAE, x: np.ndarray) -> float:
    return float(((codec.decode(codec.encode(x)) - x) ** 2).sum(axis=1).mean())


def test_sae_round_trip_shape_and_bits(small_vectors: np.ndarray) -> None:
    codec = fit_sae(small_vectors, k=4, value_bits=4)
    codes = codec.encode(small_vectors)
    decoded = codec.decode(codes)
    assert codes.dtype == np.uint8
    assert codec.bits_per_vector == 4 * (7 + 4)
    assert codes.shape == (len(small_vectors), math.ceil(44 / 8))
    assert stored_bits(codes) == 8 * math.ceil(codec.bits_per_vector / 8)
    assert decoded.dtype == np.float32
    assert decoded.shape == small_vectors.shape


def test_sae_default_stores_64_bits() -> None:
    assert TopKSAE().bits_for(64) == 4 * (12 + 4)


def test_sae_codes_hold_top_k_latents(small_vectors: np.ndarray) -> None:
    codec = fit_sae(small_vectors, k=4, value_bits=16)
    state = codec.state()
    pre = (small_vectors - state["b_pre"]) @ state["w_enc"].T + state["b_enc"]
    expected = np.sort(np.argsort(-pre, axis=1)[:, :4], axis=1)
    indices, values = codec.latents(small_vectors)
    np.testing.assert_array_equal(np.sort(indices, axis=1), expected)
    expected_values = np.maximum(np.take_along_axis(pre, indices, axis=1), 0)
    np.testing.assert_allclose(values, expected_values, rtol=1e-4, atol=1e-5)


def test_sae_decoder_columns_unit_norm(small_vectors: np.ndarray) -> None:
    codec = fit_sae(small_vectors, k=4)
    norms = np.linalg.norm(codec.state()["w_dec"], axis=0)
    np.testing.assert_allclose(norms, 1.0, rtol=0, atol=1e-5)


def test_sae_quantized_decode_matches_float(small_vectors: np.ndarray) -> None:
    codec = fit_sae(small_vectors, k=4, value_bits=16)
    quantized = codec.decode(codec.encode(small_vectors))
    exact = codec.decode_latents(*codec.latents(small_vectors))
    diff = ((quantized - exact) ** 2).sum(axis=1)
    # Only values clipped to the range's 0.1% and 99.9% quantiles may differ visibly.
    assert np.mean(diff < 1e-8) >= 0.99
    assert diff.mean() < 1e-3 * codec.fit_stats["float_mse"]


def test_sae_error_falls_with_k(small_vectors: np.ndarray) -> None:
    errors = [
        mean_squared_error(fit_sae(small_vectors, k=k, value_bits=8), small_vectors)
        for k in (1, 4, 12)
    ]
    assert errors[0] > errors[1] > errors[2]


def test_sae_error_falls_with_value_bits(small_vectors: np.ndarray) -> None:
    errors = [
        mean_squared_error(fit_sae(small_vectors, k=4, value_bits=bits), small_vectors)
        for bits in (1, 3, 8)
    ]
    assert errors[0] > errors[1] > errors[2]


def test_sae_fit_stats(small_vectors: np.ndarray) -> None:
    codec = fit_sae(small_vectors, k=4, value_bits=8)
    stats = codec.fit_stats
    assert 0.0 <= stats["dead_fraction"] <= 1.0
    assert 0.0 < stats["fraction_variance_unexplained"] < 1.0
    assert stats["mse"] == pytest.approx(mean_squared_error(codec, small_vectors))
    assert stats["value_low"] < stats["value_high"]


def test_sae_aux_loss_only_acts_on_dead_latents(small_vectors: np.ndarray) -> None:
    # No latent can be dead for 10,000 steps in 4 epochs, so the weight changes nothing.
    quiet = {"k": 2, "dead_steps": 10_000}
    without = fit_sae(small_vectors, aux_weight=0.0, **quiet)
    with_aux = fit_sae(small_vectors, aux_weight=1.0, **quiet)
    np.testing.assert_array_equal(
        with_aux.encode(small_vectors), without.encode(small_vectors)
    )
    active = {"k": 2, "dead_steps": 1}
    changed = fit_sae(small_vectors, aux_weight=1.0, **active)
    baseline = fit_sae(small_vectors, aux_weight=0.0, **active)
    assert not np.array_equal(changed.state()["w_enc"], baseline.state()["w_enc"])
    for codec in (without, with_aux, changed, baseline):
        assert 0.0 <= codec.fit_stats["dead_fraction"] <= 1.0


def test_sae_rejects_k_not_below_hidden() -> None:
    with pytest.raises(
        ValueError,
        match=r"ablations.x.chain\[3\].k=64 must be less than "
        r"ablations.x.chain\[3\].hidden=64",
    ):
        TopKSAE(hidden=64, k=64, key="ablations.x.chain[3]")


@pytest.mark.parametrize("bits", [0, 17])
def test_sae_rejects_value_bits_out_of_range(bits: int) -> None:
    with pytest.raises(ValueError, match=rf"sae.value_bits={bits}"):
        TopKSAE(value_bits=bits)


def test_sae_value_bits_message_names_range() -> None:
    with pytest.raises(ValueError, match=r"choose 1 to 16 bits per latent value"):
        TopKSAE(value_bits=17)


def test_sae_rejects_negative_aux_weight() -> None:
    with pytest.raises(ValueError, match=r"sae.aux_weight=-1.0 must be 0 or more"):
        TopKSAE(aux_weight=-1.0)


def test_sae_state_round_trip(small_vectors: np.ndarray) -> None:
    codec = fit_sae(small_vectors, k=4)
    restored = build_codec(codec.config(), "sae")
    restored.load_state(codec.state())
    assert restored.input_dim == 32
    codes = codec.encode(small_vectors)
    np.testing.assert_array_equal(restored.encode(small_vectors), codes)
    np.testing.assert_array_equal(restored.decode(codes), codec.decode(codes))
    assert codec.model_bytes == 4 * (32 + 128 * 32 + 128 + 32 * 128 + 2)


def test_sae_load_state_rejects_other_hidden(small_vectors: np.ndarray) -> None:
    codec = fit_sae(small_vectors, k=4)
    other = TopKSAE(hidden=64, k=4)
    with pytest.raises(ValueError, match=r"state w_enc of sae has shape \(128, 32\)"):
        other.load_state(codec.state())


def test_sae_same_seed_same_codes(small_vectors: np.ndarray) -> None:
    first = fit_sae(small_vectors, k=4, seed=7)
    second = fit_sae(small_vectors, k=4, seed=7)
    np.testing.assert_array_equal(
        first.encode(small_vectors), second.encode(small_vectors)
    )


def test_sae_config_rebuilds_codec() -> None:
    codec = TopKSAE(hidden=256, k=8, value_bits=6, seed=2)
    config = codec.config()
    assert next(iter(config)) == "kind"
    assert build_codec(config, "sae").config() == config
