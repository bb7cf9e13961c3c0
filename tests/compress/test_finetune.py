"""Matryoshka fine-tuning: argument checks, STS scoring and a tiny real run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mshc.compress.finetune import (
    check_dims,
    check_pairs,
    finetune_matryoshka,
    format_table,
    load_model,
    main,
    sts_spearman,
)

SENTENCES = [
    ("a man is playing a guitar", "a man plays the guitar", 4.8),
    ("a woman is slicing an onion", "a woman cuts an onion", 4.2),
    ("a dog runs in the park", "a cat sleeps on the sofa", 0.6),
    ("children play football", "kids are playing soccer", 4.0),
    ("the stock market fell today", "a child is eating an apple", 0.0),
    ("a plane is taking off", "an airplane departs", 4.5),
    ("a man is cooking pasta", "a man is riding a horse", 0.8),
    ("two people are talking", "two men are having a conversation", 3.6),
]


def tiny_pairs(repeat: int = 2) -> pd.DataFrame:
    rows = SENTENCES * repeat
    return pd.DataFrame(rows, columns=["sentence1", "sentence2", "score"])


class FixedEncoder:
    """Stand-in for a SentenceTransformer that returns preset vectors."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode(self, texts: Sequence[str], **kwargs: object) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


def test_check_dims_sorts_descending() -> None:
    assert check_dims([64, 384, 128]) == [384, 128, 64]


@pytest.mark.parametrize(
    ("dims", "model_dim", "message"),
    [
        ([], None, r"dims is empty"),
        ([64, 64], None, r"dims=\[64, 64\] repeats a size"),
        ([64, 0], None, r"dims=\[64, 0\] has a size below 1"),
        (
            [512, 64],
            384,
            r"dims=\[512, 64\] has sizes above the model's embedding dimension 384",
        ),
    ],
)
def test_check_dims_rejects(
    dims: list[int], model_dim: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_dims(dims, model_dim)


def test_check_pairs_missing_column() -> None:
    frame = pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["c", "d"]})
    with pytest.raises(ValueError, match=r"train has no column score"):
        check_pairs(frame)


def test_check_pairs_too_few() -> None:
    with pytest.raises(ValueError, match=r"train has 1 pairs, but CoSENT needs"):
        check_pairs(tiny_pairs().head(1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, r"epochs=0 must be at least 1"),
        ({"batch_size": 1}, r"batch_size=1 must be at least 2"),
        ({"lr": 0.0}, r"lr=0.0 must be positive"),
        ({"max_pairs": 1}, r"max_pairs=1 must be at least 2"),
    ],
)
def test_finetune_rejects_args_before_loading(
    kwargs: dict[str, float], message: str, tmp_path: Path
) -> None:
    # The model name does not exist, so reaching the load would raise OSError.
    with pytest.raises(ValueError, match=message):
        finetune_matryoshka(
            "no-such-model", tiny_pairs(), [64], output_dir=tmp_path, **kwargs
        )


def test_load_model_missing(tmp_path: Path) -> None:
    with pytest.raises(OSError, match=r"could not load sentence-transformers model"):
        load_model(str(tmp_path / "missing"))


def test_sts_spearman_per_prefix() -> None:
    # With 3 dims the cosines are 0, 0.71 and 0.71 (a tie); keeping 2 dims turns
    # them into 0, 0.71 and 1, the gold order.
    pairs = pd.DataFrame(
        {
            "sentence1": ["a", "b", "c"],
            "sentence2": ["x", "y", "z"],
            "score": [1.0, 2.0, 3.0],
        }
    )
    vectors = {
        "a": np.array([1.0, 0.0, 0.0]),
        "b": np.array([1.0, 0.0, 0.0]),
        "c": np.array([1.0, 0.0, 0.0]),
        "x": np.array([0.0, 1.0, 0.0]),
        "y": np.array([1.0, 1.0, 0.0]),
        "z": np.array([1.0, 0.0, 1.0]),
    }
    scores = sts_spearman(FixedEncoder(vectors), pairs, [3, 2])
    assert sorted(scores) == [2, 3]
    assert scores[3] == pytest.approx(86.60254, rel=1e-4)
    assert scores[2] == pytest.approx(100.0)


def test_format_table() -> None:
    table = format_table({64: 20.0, 32: 10.0}, {64: 25.5, 32: 9.0})
    lines = table.splitlines()
    assert lines[0].split() == ["dim", "base", "finetuned", "change"]
    assert lines[1].split() == ["64", "20.00", "25.50", "+5.50"]
    assert lines[2].split() == ["32", "10.00", "9.00", "-1.00"]


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    output = capsys.readouterr().out
    assert "--max-pairs" in output
    assert "--output-dir" in output


def test_cli_missing_train_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "train.parquet"
    with pytest.raises(SystemExit) as exit_info:
        main(["--train", str(missing), "--output", str(tmp_path / "r.json")])
    assert exit_info.value.code == 2
    assert f"{missing} not found" in capsys.readouterr().err


def test_cli_rejects_repeated_dims(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = tiny_pairs()
    frame.to_parquet(tmp_path / "pairs.parquet")
    argv = ["--train", str(tmp_path / "pairs.parquet")]
    argv += ["--test", str(tmp_path / "pairs.parquet"), "--dims", "64", "64"]
    with pytest.raises(SystemExit):
        main(argv)
    assert "dims=[64, 64] repeats a size" in capsys.readouterr().err


@pytest.mark.slow
def test_finetune_tiny_run(tmp_path: Path) -> None:
    model_path, stats = finetune_matryoshka(
        "all-MiniLM-L6-v2",
        tiny_pairs(),
        [384, 64],
        output_dir=tmp_path,
        epochs=1,
        batch_size=8,
        max_pairs=16,
    )
    assert model_path == tmp_path / "model"
    assert math.isfinite(stats["train_loss"])
    assert stats["pairs"] == 16
    assert stats["steps"] == 2
    model = load_model(str(model_path))
    embeddings = model.encode(["a man plays the guitar"], show_progress_bar=False)
    assert embeddings.shape == (1, 384)
    scores = sts_spearman(model, tiny_pairs(1), [384, 64])
    assert sorted(scores) == [64, 384]
    assert all(-100 <= v <= 100 for v in scores.values())
