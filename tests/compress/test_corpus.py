"""The fit corpus: texts from named splits, their embeddings and the scored pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mshc.compress.corpus import build_corpus
from mshc.compress.params import CorpusParams
from mshc.encode.store import write_embeddings
from mshc.io import write_json, write_parquet

STS_TRAIN = pd.DataFrame(
    {
        "sentence1": ["a", "b", "c"],
        "sentence2": ["b", "c", "d"],
        "score": [5.0, 2.5, 0.0],
    }
)
NSMC_TRAIN = pd.DataFrame({"text": ["r1", "r2", "a"], "label": [0, 1, 1]})


def write_dataset(root: Path, name: str, task: str, tables: dict) -> None:
    folder = root / "prepared" / name
    for split, table in tables.items():
        write_parquet(folder / f"{split}.parquet", table)
    write_json(folder / "dataset.json", {"task": task, "splits": sorted(tables)})
    columns = ["sentence1", "sentence2"] if task == "sts" else ["text"]
    texts = sorted({t for table in tables.values() for c in columns for t in table[c]})
    rng = np.random.default_rng(len(texts))
    vectors = rng.normal(size=(len(texts), 8)).astype(np.float32) * 3
    write_embeddings(root / "embeddings" / name, texts, vectors, {"encoder": "test"})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    write_dataset(tmp_path, "sts", "sts", {"train": STS_TRAIN, "test": STS_TRAIN})
    write_dataset(tmp_path, "nsmc", "classification", {"train": NSMC_TRAIN})
    return tmp_path


def build(data: Path, **raw) -> object:
    settings = CorpusParams.from_params({"corpus": raw})
    return build_corpus(
        settings, {"sts": {}, "nsmc": {}}, data / "prepared", data / "embeddings"
    )


def test_corpus_texts_and_pairs(data: Path) -> None:
    corpus = build(data, sources=["nsmc:train"], pairs="sts:train")

    assert corpus.texts == ["a", "b", "c", "d", "r1", "r2"]
    assert corpus.vectors.shape == (6, 8)
    np.testing.assert_allclose(np.linalg.norm(corpus.vectors, axis=1), 1.0, rtol=1e-6)
    assert corpus.pairs.left.tolist() == [0, 1, 2]
    assert corpus.pairs.right.tolist() == [1, 2, 3]
    assert corpus.pairs.scores.tolist() == [5.0, 2.5, 0.0]


def test_corpus_vectors_match_embeddings(data: Path) -> None:
    corpus = build(data, sources=["sts:train"])
    stored = np.load(data / "embeddings" / "sts" / "embeddings.npy")
    expected = stored / np.linalg.norm(stored, axis=1, keepdims=True)

    np.testing.assert_allclose(corpus.vectors, expected, rtol=1e-6)
    assert corpus.pairs is None


def test_corpus_max_texts_drops_pairs(data: Path) -> None:
    corpus = build(data, sources=["nsmc:train"], pairs="sts:train", max_texts=3, seed=1)

    assert len(corpus.texts) == 3
    index = {t: i for i, t in enumerate(corpus.texts)}
    kept = [
        (a, b)
        for a, b in zip(STS_TRAIN.sentence1, STS_TRAIN.sentence2, strict=True)
        if a in index and b in index
    ]
    assert len(corpus.pairs.scores) == len(kept)


def test_corpus_unknown_dataset(data: Path) -> None:
    with pytest.raises(
        ValueError,
        match=r"corpus.sources\[0\] names dataset 'korsts', which is not in the datasets",
    ):
        build(data, sources=["korsts:train"])


def test_corpus_unknown_split(data: Path) -> None:
    with pytest.raises(
        ValueError, match=r"names split 'dev' of 'sts', which has only test, train"
    ):
        build(data, sources=["sts:dev"])


def test_corpus_pairs_must_be_sts(data: Path) -> None:
    with pytest.raises(ValueError, match=r"corpus.pairs names a classification split"):
        build(data, sources=["sts:train"], pairs="nsmc:train")
