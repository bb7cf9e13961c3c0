from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mshc.config import EvaluateParams
from mshc.evaluate import metrics
from mshc.evaluate.runner import evaluate_dataset, variants

PARAMS = EvaluateParams(truncate_dims=(8, 4), probe_max_iter=200, probe_c=1.0, seed=0)


def test_variants_bits() -> None:
    found = variants(512, (64,))
    assert [v.name for v in found] == ["full", "truncate_64"]
    assert found[0].bits_per_vector == 512 * 32
    assert found[1].bits_per_vector == 64 * 32


def test_variants_reject_dim_at_full_size() -> None:
    with pytest.raises(
        ValueError,
        match=r"evaluate.truncate_dims contains 512, but the embeddings have only 512 dims",
    ):
        variants(512, (512,))


def _classification(
    seed: int = 0,
) -> tuple[dict[str, pd.DataFrame], list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 120
    labels = rng.integers(0, 2, size=n)
    # The label is carried by the first coordinate, so every prefix keeps it.
    x = rng.normal(size=(n, 16)).astype(np.float32)
    x[:, 0] += 4 * (2 * labels - 1)
    texts = [f"리뷰 {i}" for i in range(n)]
    table = pd.DataFrame({"text": texts, "label": labels.astype(str)})
    return {"train": table.iloc[:80], "test": table.iloc[80:]}, texts, x


def test_classification_record() -> None:
    tables, texts, x = _classification()
    manifest = {"dataset": "toy", "task": "classification"}
    record = evaluate_dataset(manifest, tables, texts, x, "random", PARAMS)
    full = record["variants"]["full"]
    assert record["main_score"] == "accuracy"
    assert set(record["variants"]) == {"full", "truncate_8", "truncate_4"}
    assert full["retention"] == pytest.approx(100.0)
    assert full["accuracy"] > 90
    assert record["variants"]["truncate_4"]["compression_ratio"] == pytest.approx(4.0)
    assert record["variants"]["truncate_8"]["bits_per_vector"] == 256


def test_sts_record_uses_mteb_and_retention() -> None:
    rng = np.random.default_rng(0)
    texts = [f"문장 {i}" for i in range(40)]
    x = rng.normal(size=(40, 16)).astype(np.float32)
    table = pd.DataFrame(
        {
            "sentence1": texts[:20],
            "sentence2": texts[20:],
            "score": rng.uniform(0, 5, 20),
        }
    )
    record = evaluate_dataset(
        {"dataset": "toy-sts", "task": "sts"},
        {"test": table},
        texts,
        x,
        "random",
        PARAMS,
    )
    truncated = record["variants"]["truncate_8"]
    xt = metrics.truncate(x, 8)
    expected = metrics.sts_correlations(xt[:20], xt[20:], table["score"])[
        "spearman_cosine"
    ]
    assert truncated["spearman_cosine"] == pytest.approx(expected, abs=1e-6)
    full = record["variants"]["full"]["spearman_cosine"]
    assert truncated["retention"] == pytest.approx(100 * expected / full)
