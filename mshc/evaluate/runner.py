"""Score every variant of one dataset's embeddings with the dataset's protocols."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mshc.config import EvaluateParams
from mshc.evaluate import metrics
from mshc.evaluate.mteb_bridge import EmbeddingLookup, build_task, run_task

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

# The metric each task is ranked by; retention is computed for every metric.
MAIN_SCORE = {
    "sts": "spearman_cosine",
    "pair-classification": "max_ap",
    "classification": "accuracy",
}
PROTOCOLS = {
    "spearman_cosine": "mteb STS: Spearman of pair cosine with gold scores, x100",
    "pearson_cosine": "mteb STS: Pearson of pair cosine with gold scores, x100",
    "max_ap": "mteb pair classification: max average precision, neutral dropped, x100",
    "probe_accuracy": "logistic-regression probe on [u, v, |u-v|, u*v], trained on the train split, accuracy x100",
    "accuracy": "logistic-regression probe trained on the train subset, accuracy on the test subset, x100",
}


@dataclass(frozen=True)
class Variant:
    """One representation of the embeddings that is scored: its name and its vectors' size."""

    name: str
    dim: int
    bits_per_vector: int


def variants(full_dim: int, truncate_dims: Sequence[int]) -> list[Variant]:
    """Return the full embedding and the plain truncation baseline at each prefix.

    Raises:
        ValueError: a prefix is not below `full_dim`.
    """
    out = [Variant("full", full_dim, metrics.FLOAT32_BITS * full_dim)]
    for dim in truncate_dims:
        if dim >= full_dim:
            raise ValueError(
                f"evaluate.truncate_dims contains {dim}, but the embeddings have only "
                f"{full_dim} dims; use sizes below {full_dim}"
            )
        out.append(Variant(f"truncate_{dim}", dim, metrics.FLOAT32_BITS * dim))
    return out


def _score_pairs(
    tables: dict[str, pd.DataFrame], vectors: EmbeddingLookup, params: EvaluateParams
) -> dict[str, float]:
    out: dict[str, float] = {}
    if "train" not in tables:
        return out
    train, test = tables["train"], tables["test"]
    xt = metrics.pair_features(
        vectors.of(train["premise"]), vectors.of(train["hypothesis"])
    )
    xq = metrics.pair_features(
        vectors.of(test["premise"]), vectors.of(test["hypothesis"])
    )
    out["probe_accuracy"] = metrics.probe_accuracy(
        xt,
        train["label"],
        xq,
        test["label"],
        params.probe_c,
        params.probe_max_iter,
        params.seed,
    )
    return out


def _score_classification(
    tables: dict[str, pd.DataFrame], vectors: EmbeddingLookup, params: EvaluateParams
) -> dict[str, float]:
    train, test = tables["train"], tables["test"]
    accuracy = metrics.probe_accuracy(
        vectors.of(train["text"]),
        train["label"],
        vectors.of(test["text"]),
        test["label"],
        params.probe_c,
        params.probe_max_iter,
        params.seed,
    )
    return {"accuracy": accuracy}


def score_variant(
    task: str,
    tables: dict[str, pd.DataFrame],
    vectors: EmbeddingLookup,
    mteb_task: Any | None,
    params: EvaluateParams,
) -> dict[str, float]:
    """Return every metric of one variant of one dataset.

    STS and pair-classification scores go through `mteb_task` when there is one;
    probes use scikit-learn.
    """
    scores: dict[str, float] = {}
    if mteb_task is not None:
        raw = run_task(mteb_task, vectors)
        if task == "sts":
            scores["spearman_cosine"] = 100 * raw["cosine_spearman"]
            scores["pearson_cosine"] = 100 * raw["cosine_pearson"]
        else:
            scores["max_ap"] = 100 * raw["max_ap"]
    if task == "pair-classification":
        scores.update(_score_pairs(tables, vectors, params))
    elif task == "classification":
        scores.update(_score_classification(tables, vectors, params))
    return scores


def evaluate_dataset(
    manifest: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    texts: Sequence[str],
    embeddings: FloatArray,
    encoder: str,
    params: EvaluateParams,
) -> dict[str, Any]:
    """Score the full embeddings and each truncation of one dataset.

    Returns:
        A metrics record: dataset facts, the protocol of each metric, and one entry
        per variant with its scores, retention, bits per vector and compression ratio.
    """
    dataset, task = manifest["dataset"], manifest["task"]
    full_dim = int(embeddings.shape[1])
    found = variants(full_dim, params.truncate_dims)
    # The mteb task and the text index are the same for every variant, so both are
    # built once. mteb 2.26 unloads only data it loaded itself, so the task stays set.
    mteb_task = (
        build_task(dataset, task, tables["test"]) if task != "classification" else None
    )
    lookup = EmbeddingLookup(texts, embeddings, f"mshc/{encoder}/{dataset}")
    rows: dict[str, dict[str, float]] = {}
    for variant in found:
        if variant.name == "full":
            matrix = metrics.l2_normalize(embeddings)
        else:
            matrix = metrics.truncate(embeddings, variant.dim)
        vectors = lookup.with_embeddings(matrix, f"{lookup.name}/{variant.name}")
        scores = score_variant(task, tables, vectors, mteb_task, params)
        row: dict[str, float] = {
            "dim": variant.dim,
            "bits_per_vector": variant.bits_per_vector,
            "bytes_per_vector": variant.bits_per_vector / 8,
            "compression_ratio": metrics.compression_ratio(
                full_dim, variant.bits_per_vector
            ),
            **scores,
        }
        rows[variant.name] = row
        logger.info(
            "%s/%s: %s",
            dataset,
            variant.name,
            {k: round(v, 2) for k, v in scores.items()},
        )
    main = (
        MAIN_SCORE[task]
        if MAIN_SCORE[task] in rows["full"]
        else _first_score(rows["full"])
    )
    _add_retention(rows, main)
    return {
        "dataset": dataset,
        "task": task,
        "encoder": encoder,
        "full_dim": full_dim,
        "main_score": main,
        "protocols": {k: v for k, v in PROTOCOLS.items() if k in rows["full"]},
        "files": manifest.get("files", {}),
        "test_rows": len(tables["test"]),
        "train_rows": len(tables["train"]) if "train" in tables else 0,
        "variants": rows,
    }


SCORE_KEYS = tuple(PROTOCOLS)


def _first_score(row: dict[str, float]) -> str:
    return next(k for k in SCORE_KEYS if k in row)


def _add_retention(rows: dict[str, dict[str, float]], main: str) -> None:
    full = rows["full"]
    for row in rows.values():
        for key in SCORE_KEYS:
            if key in row and key in full:
                row[f"retention_{key}"] = metrics.retention(row[key], full[key])
        row["score"] = row[main]
        row["retention"] = row[f"retention_{main}"]
