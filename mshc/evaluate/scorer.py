"""Score any vectors of one dataset's texts, against the full embedding's scores.

Compressed variants reuse the protocols of `evaluate@<dataset>` and read its
`metrics/evaluate/<dataset>.json` for the full scores, so retention is always
against the same encoder and protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np

from mshc.config import EvaluateParams
from mshc.data.prepare import load_prepared
from mshc.evaluate import metrics
from mshc.evaluate.mteb_bridge import EmbeddingLookup, build_task
from mshc.evaluate.runner import SCORE_KEYS, FloatArray, score_variant
from mshc.io import read_json, require_file


class DatasetScorer:
    """Scores vectors of one dataset with its task's protocols.

    The mteb task and the text index are built once and reused for every variant.

    Args:
        dataset: a key of the datasets section.
        texts: the dataset's texts, in the row order of the vectors to score.
        params: the evaluate section.
        prepared: folder of the prepared datasets.
        metrics_dir: folder of the `evaluate/<dataset>.json` files.
    """

    def __init__(
        self,
        dataset: str,
        texts: list[str],
        params: EvaluateParams,
        prepared: Path = Path("data/prepared"),
        metrics_dir: Path = Path("metrics"),
    ) -> None:
        self.dataset = dataset
        self.params = params
        manifest, self.tables = load_prepared(prepared / dataset)
        self.task = str(manifest["task"])
        path = require_file(
            metrics_dir / "evaluate" / f"{dataset}.json",
            f"dvc repro evaluate@{dataset}",
        )
        record = cast(dict[str, Any], read_json(path))
        self.full: dict[str, float] = record["variants"]["full"]
        self.main_score = str(record["main_score"])
        self.encoder = str(record["encoder"])
        self.mteb_task = (
            build_task(dataset, self.task, self.tables["test"])
            if self.task != "classification"
            else None
        )
        # The vectors are set per variant by `score`.
        empty = np.zeros((len(texts), 0), dtype=np.float32)
        self.lookup = EmbeddingLookup(texts, empty, f"mshc/{self.encoder}/{dataset}")

    def score(self, vectors: FloatArray, variant: str) -> dict[str, float]:
        """Return every metric of `vectors`, each with its retention, plus `score` and `retention`.

        Vectors are L2-normalized first, as the full embedding is in `evaluate`.
        `variant` must be unique per compressed representation, since mteb keys
        its caches by model name.
        """
        lookup = self.lookup.with_embeddings(
            metrics.l2_normalize(vectors), f"{self.lookup.name}/{variant}"
        )
        scores = score_variant(
            self.task, self.tables, lookup, self.mteb_task, self.params
        )
        row: dict[str, float] = dict(scores)
        for key in SCORE_KEYS:
            if key in row and key in self.full:
                row[f"retention_{key}"] = metrics.retention(row[key], self.full[key])
        row["score"] = row[self.main_score]
        row["retention"] = row[f"retention_{self.main_score}"]
        row["full_score"] = self.full[self.main_score]
        return row
