"""MRL prefixes: truncation, PCA, whitened PCA and the trained adaptor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from mshc.compress import build_codec
from mshc.compress.base import Pairs, stored_bits
from mshc.compress.mrl import MRLCodec, cosent_loss

METHODS = ["truncate", "pca", "whitened_pca", "adaptor"]
DIMS = [16, 8, 4]
# Small adaptor settings that train in about a second on 2,000 x 32 vectors.
FAST = {"dims": DIMS, "hidden": 32, "epochs": 3, "batch_size": 128, "lr": 3e-3}


def make(method: str, dim: int = 8, **params: Any) -> MRLCodec:
    settings: dict[str, Any] = {"dims": DIMS}
    if method == "adaptor":
        settings = dict(FAST)
    settings.update(params)
    return MRLCodec(method=method, dim=dim, **settings)


def synthetic_pairs(x: np.ndarray, count: int = 600, seed: int = 0) -> Pairs:
    """Return random pairs of rows scored 0-5 from their cosine in `x`."""
    rng = np.random.default_rng(seed)
    left = rng.integers(len(x), size=count)
    right = rng.integers(len(x), size=count)
    cosines = (x[left] * x[right]).sum(axis=1)
    scores = np.clip(5 * (cosines + 1) / 2, 0, 5).astype(np.float32)
    return Pairs(left, right, scores)


def structure_error(codes: np.ndarray, x: np.ndarray, rows: int = 500) -> float:
    """Return the MSE between the cosine matrices of codes and inputs, off-diagonal."""
    a = codes[:rows] / np.linalg.norm(codes[:rows], axis=1, keepdims=True)
    b = x[:rows]
    diff = a @ a.T - b @ b.T
    np.fill_diagonal(diff, 0.0)
    return float((diff**2).sum() / (rows * (rows - 1)))


@pytest.mark.parametrize("method", METHODS)
def test_round_trip_shape_and_norm(method: str, small_vectors: np.ndarray) -> None:
    codec = make(method).fit(small_vectors)
    codes = codec.encode(small_vectors)
    decoded = codec.decode(codes)
    assert codes.shape == (len(small_vectors), 8)
    assert codes.dtype == np.float32
    assert decoded.dtype == np.float32
    assert decoded.shape == (len(small_vectors), codec.output_dim(32))
    np.testing.assert_allclose(np.linalg.norm(decoded, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(decoded, codes)


@pytest.mark.parametrize("method", METHODS)
def test_stored_bits_are_float32_prefix(method: str, small_vectors: np.ndarray) -> None:
    codec = make(method).fit(small_vectors)
    codes = codec.encode(small_vectors)
    assert codec.bits_for(32) == 32 * 8
    assert codec.bits_per_vector == 32 * 8
    assert stored_bits(codes) == 8 * -(-codec.bits_per_vector // 8)


@pytest.mark.parametrize("method", METHODS)
def test_prefixes_are_nested(method: str, small_vectors: np.ndarray) -> None:
    codec = make(method, dim=16).fit(small_vectors)
    mapped = codec.transform(small_vectors)
    small = codec.with_dim(8)
    codes_8 = small.encode(small_vectors)
    prefix = mapped[:, :8] / np.linalg.norm(mapped[:, :8], axis=1, keepdims=True)
    np.testing.assert_allclose(codes_8, prefix, atol=1e-5)
    # The dim-16 code's first 8 coordinates, renormalized, are the dim-8 code.
    codes_16 = codec.encode(small_vectors)[:, :8]
    codes_16 /= np.linalg.norm(codes_16, axis=1, keepdims=True)
    np.testing.assert_allclose(codes_8, codes_16, atol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_encode_prefixes_match_with_dim(method: str, small_vectors: np.ndarray) -> None:
    codec = make(method).fit(small_vectors)
    prefixes = codec.encode_prefixes(small_vectors)
    assert sorted(prefixes) == sorted(DIMS)
    for m, codes in prefixes.items():
        expected = codec.with_dim(m).encode(small_vectors)
        np.testing.assert_allclose(codes, expected, atol=1e-5)


def test_with_dim_shares_fit(small_vectors: np.ndarray) -> None:
    codec = make("pca", dim=16).fit(small_vectors)
    smaller = codec.with_dim(4)
    assert smaller.dim == 4
    assert smaller.input_dim == 32
    assert smaller.bits_per_vector == 128
    assert smaller.state()["weight"].shape == (4, 32)


def test_truncate_keeps_first_coordinates(small_vectors: np.ndarray) -> None:
    codec = make("truncate").fit(small_vectors)
    expected = small_vectors[:, :8]
    expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(codec.encode(small_vectors), expected, atol=1e-6)
    assert codec.model_bytes == 0


def test_pca_error_falls_with_dim(vectors: np.ndarray) -> None:
    errors = []
    for dim in (4, 8, 16, 32):
        codec = MRLCodec(method="pca", dim=dim, dims=[dim]).fit(vectors)
        errors.append(structure_error(codec.encode(vectors), vectors))
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < errors[0] / 4


def test_pca_beats_truncate(vectors: np.ndarray) -> None:
    pca = MRLCodec(method="pca", dim=8, dims=[8]).fit(vectors)
    truncate = MRLCodec(method="truncate", dim=8, dims=[8]).fit(vectors)
    assert structure_error(pca.encode(vectors), vectors) < structure_error(
        truncate.encode(vectors), vectors
    )


def test_pca_model_bytes(small_vectors: np.ndarray) -> None:
    codec = make("pca").fit(small_vectors)
    # weight (8, 32) and bias (8,) in float32
    assert codec.model_bytes == 4 * (8 * 32 + 8)


def test_whitened_components_are_white(small_vectors: np.ndarray) -> None:
    codec = make("whitened_pca", dim=16).fit(small_vectors)
    mapped = codec.transform(small_vectors).astype(np.float64)
    assert mapped.shape == (len(small_vectors), 16)
    np.testing.assert_allclose(mapped.mean(axis=0), 0.0, atol=1e-4)
    covariance = np.cov(mapped, rowvar=False)
    np.testing.assert_allclose(covariance, np.eye(16), atol=1e-3)


def test_pca_components_are_uncorrelated(small_vectors: np.ndarray) -> None:
    codec = make("pca", dim=16).fit(small_vectors)
    covariance = np.cov(codec.transform(small_vectors).astype(np.float64), rowvar=False)
    off_diagonal = covariance - np.diag(np.diag(covariance))
    assert np.abs(off_diagonal).max() < 1e-6
    variances = np.diag(covariance)
    assert np.all(np.diff(variances) <= 0)


def test_adaptor_loss_falls(small_vectors: np.ndarray) -> None:
    pairs = synthetic_pairs(small_vectors)
    codec = make("adaptor", structure_weight=100.0).fit(small_vectors, pairs)
    stats = codec.fit_stats
    assert stats["loss_total_end"] <= stats["loss_total_start"]
    assert np.isfinite(stats["loss_pair_end"])
    assert np.isfinite(stats["loss_structure_end"])
    for m in DIMS:
        assert -1.0 <= stats[f"train_spearman_{m}"] <= 1.0
        assert -1.0 <= stats[f"train_spearman_init_{m}"] <= 1.0


def test_adaptor_starts_at_linear_map(small_vectors: np.ndarray) -> None:
    adaptor = make("adaptor", epochs=0).fit(small_vectors)
    whitened = make("whitened_pca").fit(small_vectors)
    np.testing.assert_allclose(
        adaptor.encode(small_vectors), whitened.encode(small_vectors), atol=1e-4
    )


def test_adaptor_structure_beats_linear_init(small_vectors: np.ndarray) -> None:
    params = {"pair_weight": 0.0, "structure_weight": 1.0, "epochs": 5}
    trained = make("adaptor", dim=4, **params).fit(small_vectors)
    linear = make("adaptor", dim=4, **{**params, "epochs": 0}).fit(small_vectors)
    trained_error = structure_error(trained.encode(small_vectors), small_vectors)
    linear_error = structure_error(linear.encode(small_vectors), small_vectors)
    assert trained_error <= linear_error


def test_adaptor_ignores_pairs_at_zero_weight(small_vectors: np.ndarray) -> None:
    pairs = synthetic_pairs(small_vectors)
    codec = make("adaptor", pair_weight=0.0).fit(small_vectors, pairs)
    assert "loss_pair_end" not in codec.fit_stats
    plain = make("adaptor", pair_weight=0.0).fit(small_vectors)
    np.testing.assert_array_equal(
        codec.encode(small_vectors), plain.encode(small_vectors)
    )


def test_cosent_loss_matches_formula() -> None:
    cosines = torch.tensor([0.9, 0.1, 0.5, 0.3])
    scores = torch.tensor([5.0, 1.0, 2.0, 2.0])
    expected_terms = [0.0]
    for i in range(4):
        for j in range(4):
            if scores[i] > scores[j]:
                expected_terms.append(20 * float(cosines[j] - cosines[i]))
    expected = float(np.log(np.exp(expected_terms).sum()))
    assert float(cosent_loss(cosines, scores)) == pytest.approx(expected, rel=1e-5)


def test_cosent_loss_prefers_gold_order() -> None:
    scores = torch.tensor([0.0, 1.0, 2.0, 3.0])
    ordered = cosent_loss(torch.tensor([0.1, 0.2, 0.3, 0.4]), scores)
    reversed_order = cosent_loss(torch.tensor([0.4, 0.3, 0.2, 0.1]), scores)
    assert float(ordered) < float(reversed_order)


@pytest.mark.parametrize("method", METHODS)
def test_state_round_trip(method: str, small_vectors: np.ndarray) -> None:
    codec = make(method).fit(small_vectors, synthetic_pairs(small_vectors))
    restored = build_codec(codec.config(), "mrl")
    assert isinstance(restored, MRLCodec)
    restored.load_state(codec.state())
    assert restored.input_dim == 32
    np.testing.assert_array_equal(
        restored.encode(small_vectors), codec.encode(small_vectors)
    )
    assert restored.model_bytes == codec.model_bytes


def test_state_keeps_only_needed_rows(small_vectors: np.ndarray) -> None:
    codec = make("adaptor").fit(small_vectors)
    state = codec.state()
    assert state["weight"].shape == (8, 32)
    assert state["out_weight"].shape == (8, 32)
    assert state["hidden_weight"].shape == (32, 32)


def test_loaded_state_rejects_wider_prefix(small_vectors: np.ndarray) -> None:
    codec = make("pca").fit(small_vectors)
    restored = make("pca")
    restored.load_state(codec.state())
    with pytest.raises(ValueError, match=r"prefix size 16 is outside 1\.\.8"):
        restored.encode_prefixes(small_vectors, [16])


def test_same_seed_same_codes(small_vectors: np.ndarray) -> None:
    pairs = synthetic_pairs(small_vectors)
    first = make("adaptor", seed=3).fit(small_vectors, pairs)
    second = make("adaptor", seed=3).fit(small_vectors, pairs)
    np.testing.assert_array_equal(
        first.encode(small_vectors), second.encode(small_vectors)
    )


def test_config_round_trip() -> None:
    codec = make("adaptor", seed=5)
    config = codec.config()
    assert next(iter(config)) == "kind"
    assert config["kind"] == "mrl"
    assert config["seed"] == 5
    assert build_codec(config, "mrl").config() == config


def test_rejects_dim_at_input_dim() -> None:
    codec = MRLCodec(method="pca", dim=32, dims=[32, 16], key="ablations.a.chain[0]")
    with pytest.raises(
        ValueError,
        match=r"ablations.a.chain\[0\].dim=32 must be less than the input dimension "
        r"32; choose a smaller ablations.a.chain\[0\].dim",
    ):
        codec.check(2000, 32, "ablations.a.chain[0]")


def test_rejects_dims_at_input_dim() -> None:
    codec = MRLCodec(method="truncate", dim=8, dims=[64, 8])
    with pytest.raises(
        ValueError, match=r"mrl.dims=\[64, 8\] has sizes \[64\] not below the input"
    ):
        codec.check(2000, 32, "mrl")


def test_rejects_too_few_vectors() -> None:
    codec = MRLCodec(method="pca", dim=8, dims=[16, 8])
    with pytest.raises(ValueError, match=r"more fit vectors than the 16 components"):
        codec.check(10, 32, "mrl")


def test_fit_checks_shape() -> None:
    codec = MRLCodec(method="pca", dim=64, dims=[64])
    with pytest.raises(ValueError, match=r"mrl.dim=64 must be less than"):
        codec.fit(np.eye(32, dtype=np.float32))


def test_rejects_dim_not_in_dims() -> None:
    with pytest.raises(
        ValueError,
        match=r"x.dim=48 is not in x.dims=\[64, 32\], the prefix sizes the adaptor is "
        r"trained for; add it to x.dims",
    ):
        MRLCodec(method="adaptor", dim=48, dims=[64, 32], key="x")


def test_unknown_method_suggests() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown MRL method 'whitened' in x.method; known: .*"
        r"did you mean 'whitened_pca'",
    ):
        MRLCodec(method="whitened", key="x")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dims": []}, r"mrl.dims is empty"),
        ({"dims": [64, 64]}, r"mrl.dims=\[64, 64\] repeats a size"),
        ({"epochs": -1}, r"mrl.epochs=-1 must be 0"),
        ({"batch_size": 1}, r"mrl.batch_size=1 must be at least 2"),
        ({"lr": 0.0}, r"mrl.lr=0.0 must be positive"),
        ({"pair_weight": 0, "structure_weight": 0}, r"both 0"),
        ({"init": "pcaa"}, r"unknown MRL init 'pcaa'.*did you mean 'pca'"),
    ],
)
def test_rejects_invalid_params(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MRLCodec(**params)


def test_rejects_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"mrl.dim='64' has type str"):
        MRLCodec(dim="64")  # type: ignore[arg-type]


def test_encode_rejects_other_width(small_vectors: np.ndarray) -> None:
    codec = make("pca").fit(small_vectors)
    with pytest.raises(ValueError, match=r"fitted on 32-dim vectors"):
        codec.encode(np.zeros((3, 16), dtype=np.float32))
