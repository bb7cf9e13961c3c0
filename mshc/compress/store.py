"""The folder of one ablation under `data/compressed/<name>/`.

Layout:
    chain.json          the chain from `full` down to this ablation, its bits and sizes
    corpus.npy          the fit corpus after this ablation's chain (decoded)
    pairs.parquet       scored pairs of the corpus, as row indices (left, right, score)
    model/<i>.npz       the learned state of this ablation's codec i
    datasets/<k>.npy    decoded vectors of dataset k, rows as in data/embeddings/<k>
    codes/<k>.npy       the stored codes of dataset k

The `full` folder contains only the corpus, its pairs and `chain.json`; the datasets of
`full` are the unit-norm embeddings in `data/embeddings/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from mshc.compress.base import Chain, FloatArray, Pairs
from mshc.compress.params import FULL
from mshc.encode.store import load_embeddings
from mshc.evaluate.metrics import l2_normalize
from mshc.io import read_json, require_file, write_json, write_npy, write_parquet

ROOT = Path("data/compressed")


def make_command(name: str) -> str:
    """Return the command that writes the folder of ablation `name`."""
    return "dvc repro corpus" if name == FULL else f"dvc repro compress@{name}"


def write_pairs(folder: Path, pairs: Pairs | None) -> None:
    """Write `pairs.parquet` (empty when there are no pairs)."""
    if pairs is None:
        table = pd.DataFrame({"left": [], "right": [], "score": []})
    else:
        table = pd.DataFrame(
            {"left": pairs.left, "right": pairs.right, "score": pairs.scores}
        )
    write_parquet(folder / "pairs.parquet", table)


def read_pairs(folder: Path) -> Pairs | None:
    """Read `pairs.parquet`; None when it has no rows."""
    table = pd.read_parquet(folder / "pairs.parquet")
    if table.empty:
        return None
    return Pairs(
        left=table["left"].to_numpy(dtype=np.int64),
        right=table["right"].to_numpy(dtype=np.int64),
        scores=table["score"].to_numpy(dtype=np.float32),
    )


def read_chain_record(name: str, root: Path = ROOT) -> dict[str, Any]:
    """Read `chain.json` of ablation `name` (or of `full`).

    Raises:
        FileNotFoundError: the stage that writes it has not run.
    """
    path = require_file(root / name / "chain.json", make_command(name))
    return cast(dict[str, Any], read_json(path))


def read_corpus(name: str, root: Path = ROOT) -> tuple[FloatArray, Pairs | None]:
    """Return the decoded fit corpus of ablation `name` and its scored pairs."""
    folder = root / name
    vectors = np.load(require_file(folder / "corpus.npy", make_command(name)))
    return vectors, read_pairs(folder)


def read_dataset(
    name: str,
    dataset: str,
    root: Path = ROOT,
    embeddings: Path = Path("data/embeddings"),
) -> tuple[list[str], FloatArray]:
    """Return the texts of `dataset` and their vectors after ablation `name`.

    For `full` these are the unit-norm embeddings.
    """
    texts, matrix, _ = load_embeddings(embeddings / dataset)
    if name == FULL:
        return texts, l2_normalize(matrix)
    path = require_file(root / name / "datasets" / f"{dataset}.npy", make_command(name))
    vectors = np.load(path)
    if vectors.shape[0] != len(texts):
        raise ValueError(
            f"{path} has {vectors.shape[0]} rows but {embeddings / dataset} has "
            f"{len(texts)} texts; run '{make_command(name)}' again"
        )
    return texts, vectors


def write_model(folder: Path, chain: Chain) -> None:
    """Write the learned state of each codec of `chain` to `model/<i>.npz`."""
    for i, codec in enumerate(chain.codecs):
        path = folder / "model" / f"{i}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.npz")
        arrays: dict[str, Any] = codec.state()
        np.savez(tmp, **arrays)
        tmp.replace(path)


def read_model(folder: Path, chain: Chain) -> None:
    """Load each codec's state written by `write_model` into an unfitted `chain`."""
    for i, codec in enumerate(chain.codecs):
        with np.load(folder / "model" / f"{i}.npz") as data:
            codec.load_state({k: data[k] for k in data.files})


def write_record(folder: Path, record: Mapping[str, Any]) -> None:
    """Write `chain.json`."""
    write_json(folder / "chain.json", dict(record))


def write_vectors(folder: Path, dataset: str, decoded: FloatArray, codes: Any) -> None:
    """Write the decoded vectors and the stored codes of one dataset."""
    write_npy(folder / "datasets" / f"{dataset}.npy", decoded)
    write_npy(folder / "codes" / f"{dataset}.npy", np.asarray(codes))
