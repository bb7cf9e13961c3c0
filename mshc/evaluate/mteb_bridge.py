"""Run mteb's STS and pair-classification protocols on precomputed embeddings.

mteb normally downloads a task's dataset from the Hugging Face hub and calls a
model to embed its texts. Here the task's dataset is set from the prepared local
table, and the "model" looks each text up in the embeddings written by the encode
stage, so mteb scores exactly the vectors mshc stored, with no network.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

logger = logging.getLogger(__name__)

# Built-in datasets that mteb has a task for: mteb task name and its eval split.
MTEB_TASKS = {
    "klue-sts": ("KLUE-STS", "validation"),
    "korsts": ("KorSTS", "test"),
    "klue-nli": ("KLUE-NLI", "validation"),
}
# Label ids of the Hugging Face KLUE-NLI dataset that mteb's task expects.
KLUE_NLI_IDS = {"entailment": 0, "neutral": 1, "contradiction": 2}


class EmbeddingLookup:
    """An mteb encoder that returns stored embeddings for the texts it is given.

    Args:
        texts: the n texts that were embedded.
        embeddings: (n, d) float32, row i embeds texts[i].
        name: a name unique to this variant, since mteb keys its caches by it.
    """

    def __init__(
        self, texts: Iterable[str], embeddings: npt.NDArray[np.float32], name: str
    ) -> None:
        self.index = {text: i for i, text in enumerate(texts)}
        self.embeddings = embeddings
        self.name = name

    def with_embeddings(
        self, embeddings: npt.NDArray[np.float32], name: str
    ) -> EmbeddingLookup:
        """Return a lookup over the same texts, in the same row order, with other vectors."""
        other = copy.copy(self)
        other.embeddings = embeddings
        other.name = name
        return other

    def of(self, texts: Iterable[str]) -> npt.NDArray[np.float32]:
        """Return the stored rows for `texts`, in order, shape (len(texts), d).

        Raises:
            KeyError: a text was not embedded by the encode stage.
        """
        rows = []
        for text in texts:
            if text not in self.index:
                raise KeyError(
                    f"text {text[:60]!r} has no stored embedding; rerun the encode "
                    f"stage for this dataset"
                )
            rows.append(self.index[text])
        return self.embeddings[rows]

    @property
    def mteb_model_meta(self) -> Any:
        """The mteb `ModelMeta` of this variant."""
        from mteb.models.model_meta import ModelMeta, ScoringFunction

        return ModelMeta(
            loader=None,
            name=self.name,
            revision="local",
            release_date=None,
            languages=None,
            n_parameters=None,
            memory_usage_mb=None,
            max_tokens=None,
            embed_dim=int(self.embeddings.shape[1]),
            license=None,
            open_weights=None,
            public_training_code=None,
            public_training_data=None,
            similarity_fn_name=ScoringFunction.COSINE,
            framework=["NumPy"],
            reference=None,
            use_instructions=False,
            training_datasets=None,
        )

    def encode(
        self,
        inputs: Any,
        *,
        task_metadata: Any,
        hf_split: str,
        hf_subset: str,
        prompt_type: Any = None,
        **kwargs: Any,
    ) -> npt.NDArray[np.float32]:
        """Return the stored rows for the texts of every batch in `inputs`.

        Raises:
            KeyError: a text was not embedded by the encode stage.
        """
        return self.of(text for batch in inputs for text in batch["text"])

    def similarity(self, a: Any, b: Any) -> Any:
        """Return the cosine similarity matrix of two batches of embeddings."""
        import torch

        a = torch.nn.functional.normalize(
            torch.as_tensor(a, dtype=torch.float32), dim=-1
        )
        b = torch.nn.functional.normalize(
            torch.as_tensor(b, dtype=torch.float32), dim=-1
        )
        return a @ b.T

    def similarity_pairwise(self, a: Any, b: Any) -> Any:
        """Return the cosine similarity of each row pair of two batches."""
        import torch

        a = torch.as_tensor(a, dtype=torch.float32)
        b = torch.as_tensor(b, dtype=torch.float32)
        return torch.nn.functional.cosine_similarity(a, b, dim=-1)


def _custom_metadata(
    name: str, kind: Literal["STS", "PairClassification"], main_score: str
) -> Any:
    from mteb.abstasks.task_metadata import TaskMetadata

    return TaskMetadata(
        name=f"mshc-{name}",
        dataset={"path": f"local/{name}", "revision": "local"},
        description=f"Local dataset '{name}' registered in params.yaml",
        reference=None,
        type=kind,
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=["kor-Hang"],
        main_score=main_score,
        date=None,
        domains=None,
        task_subtypes=None,
        license=None,
        annotations_creators=None,
        dialect=None,
        sample_creation=None,
        bibtex_citation=None,
    )


def binary_pair_labels(labels: pd.Series) -> npt.NDArray[np.int64] | None:
    """Map pair labels to 1/0: entailment/contradiction (neutral dropped -> -1) or 1/0.

    Returns:
        An int array with -1 for rows to drop, or None when the labels are neither
        NLI labels nor binary.
    """
    values = set(labels.unique())
    if values <= set(KLUE_NLI_IDS):
        mapping = {"entailment": 1, "contradiction": 0, "neutral": -1}
        return labels.map(mapping).to_numpy(dtype=np.int64)
    if values <= {"0", "1"}:
        return labels.astype(int).to_numpy(dtype=np.int64)
    return None


def build_task(dataset: str, task: str, table: pd.DataFrame) -> Any | None:
    """Return an mteb task whose dataset is `table`, or None if mteb has no protocol for it.

    Built-in datasets use mteb's own task and its `dataset_transform`; user
    datasets get a task of their own with the same protocol.
    """
    import datasets
    from datasets import Dataset, DatasetDict

    datasets.disable_progress_bars()

    if dataset in MTEB_TASKS:
        import mteb

        task_name, split = MTEB_TASKS[dataset]
        mteb_task = mteb.get_task(task_name)
        if dataset == "klue-sts":
            columns: Mapping[str, Any] = {
                "sentence1": table["sentence1"].tolist(),
                "sentence2": table["sentence2"].tolist(),
                "labels": [{"label": float(s)} for s in table["score"]],
            }
        elif dataset == "klue-nli":
            columns = {
                "premise": table["premise"].tolist(),
                "hypothesis": table["hypothesis"].tolist(),
                "label": [KLUE_NLI_IDS[x] for x in table["label"]],
            }
        else:
            columns = {
                c: table[c].tolist() for c in ("sentence1", "sentence2", "score")
            }
        mteb_task.dataset = DatasetDict({split: Dataset.from_dict(dict(columns))})
        mteb_task.dataset_transform()
        mteb_task.data_loaded = True
        return mteb_task
    if task == "sts":
        from mteb.abstasks.sts import AbsTaskSTS

        low, high = float(table["score"].min()), float(table["score"].max())
        cls = type(
            "LocalSTS",
            (AbsTaskSTS,),
            {
                "metadata": _custom_metadata(dataset, "STS", "cosine_spearman"),
                "min_score": low,
                "max_score": high,
            },
        )
        mteb_task = cls()
        columns = {c: table[c].tolist() for c in ("sentence1", "sentence2", "score")}
        mteb_task.dataset = DatasetDict({"test": Dataset.from_dict(dict(columns))})
        mteb_task.data_loaded = True
        return mteb_task
    if task == "pair-classification":
        labels = binary_pair_labels(table["label"])
        if labels is None:
            logger.warning(
                "dataset %s: labels are neither NLI nor 0/1, so mteb's max AP is skipped",
                dataset,
            )
            return None
        from mteb.abstasks.pair_classification import AbsTaskPairClassification

        keep = labels >= 0
        cls = type(
            "LocalPairClassification",
            (AbsTaskPairClassification,),
            {"metadata": _custom_metadata(dataset, "PairClassification", "max_ap")},
        )
        mteb_task = cls()
        rows = {
            "sentence1": table["premise"][keep].tolist(),
            "sentence2": table["hypothesis"][keep].tolist(),
            "labels": labels[keep].tolist(),
        }
        mteb_task.dataset = DatasetDict({"test": Dataset.from_dict(rows)})
        mteb_task.data_loaded = True
        return mteb_task
    return None


def run_task(mteb_task: Any, encoder: EmbeddingLookup) -> dict[str, float]:
    """Evaluate one mteb task with `encoder` and return the scores of its eval split."""
    import mteb

    result = mteb.evaluate(encoder, [mteb_task], cache=None, show_progress_bar=False)
    scores = result.task_results[0].scores
    split = mteb_task.metadata.eval_splits[0]
    return {k: v for k, v in scores[split][0].items() if isinstance(v, float)}
