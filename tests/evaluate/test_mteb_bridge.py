from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from mshc.evaluate import metrics
from mshc.evaluate.mteb_bridge import (
    EmbeddingLookup,
    binary_pair_labels,
    build_task,
    run_task,
)


def _vectors(texts: list[str], dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return metrics.l2_normalize(rng.normal(size=(len(texts), dim)).astype(np.float32))


def _sts_table(
    n: int = 40, seed: int = 0
) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts = [f"문장 {i}" for i in range(n)]
    table = pd.DataFrame(
        {
            "sentence1": texts[: n // 2],
            "sentence2": texts[n // 2 :],
            "score": np.round(rng.uniform(0, 5, size=n // 2), 1),
        }
    )
    return table, texts, _vectors(texts, seed=seed)


@pytest.mark.parametrize("dataset", ["klue-sts", "korsts", "my-sts"])
def test_sts_matches_direct_correlation(dataset: str) -> None:
    table, texts, x = _sts_table()
    lookup = EmbeddingLookup(texts, x, f"mshc/test/{dataset}")
    scores = run_task(build_task(dataset, "sts", table), lookup)
    index = {t: i for i, t in enumerate(texts)}
    expected = metrics.sts_correlations(
        x[[index[t] for t in table["sentence1"]]],
        x[[index[t] for t in table["sentence2"]]],
        table["score"],
    )
    assert 100 * scores["cosine_spearman"] == pytest.approx(
        expected["spearman_cosine"], abs=1e-6
    )
    assert 100 * scores["cosine_pearson"] == pytest.approx(
        expected["pearson_cosine"], abs=1e-4
    )


@pytest.mark.parametrize("dataset", ["klue-nli", "my-nli"])
def test_nli_max_ap_drops_neutral(dataset: str) -> None:
    texts = [f"문장 {i}" for i in range(60)]
    x = _vectors(texts, seed=1)
    labels = ["entailment", "neutral", "contradiction"] * 10
    table = pd.DataFrame(
        {"premise": texts[:30], "hypothesis": texts[30:], "label": labels}
    )
    scores = run_task(
        build_task(dataset, "pair-classification", table),
        EmbeddingLookup(texts, x, f"mshc/test/{dataset}"),
    )
    keep = table["label"] != "neutral"
    u, v = x[:30][keep.to_numpy()], x[30:][keep.to_numpy()]
    y = (table["label"][keep] == "entailment").astype(int)
    expected = average_precision_score(y, metrics.paired_cosine(u, v))
    assert scores["max_ap"] == pytest.approx(expected, abs=1e-6)


def test_binary_pair_labels_mapping() -> None:
    nli = binary_pair_labels(pd.Series(["entailment", "neutral", "contradiction"]))
    assert nli is not None
    assert nli.tolist() == [1, -1, 0]
    binary = binary_pair_labels(pd.Series(["1", "0"]))
    assert binary is not None
    assert binary.tolist() == [1, 0]
    assert binary_pair_labels(pd.Series(["a", "b", "c"])) is None


def test_lookup_unknown_text_names_fix() -> None:
    lookup = EmbeddingLookup(["a"], _vectors(["a"]), "mshc/test/x")
    with pytest.raises(
        KeyError, match="has no stored embedding; rerun the encode stage"
    ):
        lookup.encode(
            [{"text": ["b"]}], task_metadata=None, hf_split="test", hf_subset="default"
        )


def test_lookup_meta_name() -> None:
    lookup = EmbeddingLookup(["a"], _vectors(["a"]), "mshc/usem3/klue-sts/truncate_64")
    meta = lookup.mteb_model_meta
    assert meta.name == "mshc/usem3/klue-sts/truncate_64"
    assert meta.embed_dim == 16
