"""The fit corpus: the sentences every codec is fitted on, looked up in the embeddings.

Every codec of every ablation fits on the same corpus, which also serves as the
fixed calibration sample of the scalar quantizers, so both sides of every scored
pair go through a codec calibrated on the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mshc.compress.base import FloatArray, Pairs
from mshc.compress.params import CorpusParams
from mshc.data.prepare import load_prepared
from mshc.encode.store import TEXT_COLUMNS, load_embeddings
from mshc.evaluate.metrics import l2_normalize


@dataclass(frozen=True)
class Corpus:
    """Fit sentences, their unit-norm embeddings, and scored pairs among them."""

    texts: list[str]
    vectors: FloatArray
    pairs: Pairs | None


def _split_table(
    source: tuple[str, str], key: str, prepared: Path, datasets: Mapping[str, Any]
) -> tuple[str, pd.DataFrame]:
    dataset, split = source
    if dataset not in datasets:
        known = ", ".join(sorted(datasets))
        raise ValueError(
            f"{key} names dataset '{dataset}', which is not in the datasets section "
            f"(known: {known}); add it there or pick another source"
        )
    manifest, tables = load_prepared(prepared / dataset)
    if split not in tables:
        raise ValueError(
            f"{key} names split '{split}' of '{dataset}', which has only "
            f"{', '.join(sorted(tables))}; pick one of those"
        )
    return str(manifest["task"]), tables[split]


def build_corpus(
    settings: CorpusParams,
    datasets: Mapping[str, Any],
    prepared: Path = Path("data/prepared"),
    embeddings: Path = Path("data/embeddings"),
) -> Corpus:
    """Collect the corpus texts, their unit-norm embeddings and the scored pairs.

    Raises:
        ValueError: a source names an unknown dataset or split, or the pairs source
            is not an STS split.
    """
    texts: set[str] = set()
    for i, source in enumerate(settings.sources):
        task, table = _split_table(source, f"corpus.sources[{i}]", prepared, datasets)
        for column in TEXT_COLUMNS[task]:
            texts.update(table[column])
    pair_table = None
    if settings.pairs is not None:
        task, pair_table = _split_table(
            settings.pairs, "corpus.pairs", prepared, datasets
        )
        if task != "sts":
            raise ValueError(
                f"corpus.pairs names a {task} split, but the pair loss needs scored "
                f"STS pairs; name an STS split such as 'korsts:train', or null"
            )
        texts.update(pair_table["sentence1"])
        texts.update(pair_table["sentence2"])

    ordered = sorted(texts)
    if settings.max_texts is not None and len(ordered) > settings.max_texts:
        rng = np.random.default_rng(settings.seed)
        keep = np.sort(rng.choice(len(ordered), settings.max_texts, replace=False))
        ordered = [ordered[i] for i in keep]
    vectors = _lookup(ordered, settings, embeddings)
    pairs = None if pair_table is None else _pairs(ordered, pair_table)
    return Corpus(texts=ordered, vectors=vectors, pairs=pairs)


def _lookup(texts: list[str], settings: CorpusParams, folder: Path) -> FloatArray:
    row_of = {t: i for i, t in enumerate(texts)}
    out = np.zeros((len(texts), 0), dtype=np.float32)
    found = np.zeros(len(texts), dtype=bool)
    names = {d for d, _ in settings.sources}
    if settings.pairs is not None:
        names.add(settings.pairs[0])
    for name in sorted(names):
        stored, matrix, _ = load_embeddings(folder / name)
        if out.shape[1] == 0:
            out = np.zeros((len(texts), matrix.shape[1]), dtype=np.float32)
        for row, text in enumerate(stored):
            i = row_of.get(text)
            if i is not None and not found[i]:
                out[i] = matrix[row]
                found[i] = True
    if not found.all():
        raise ValueError(
            f"{int((~found).sum())} corpus texts have no embedding; rerun "
            f"'dvc repro encode' so the embeddings match the prepared tables"
        )
    return l2_normalize(out)


def _pairs(texts: list[str], table: pd.DataFrame) -> Pairs:
    index = {t: i for i, t in enumerate(texts)}
    keep = table["sentence1"].isin(index) & table["sentence2"].isin(index)
    kept = table[keep]
    return Pairs(
        left=np.array([index[t] for t in kept["sentence1"]], dtype=np.int64),
        right=np.array([index[t] for t in kept["sentence2"]], dtype=np.int64),
        scores=kept["score"].to_numpy(dtype=np.float32),
    )
