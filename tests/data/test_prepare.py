"""Prepare stage logic: seeded subsets, malformed-row limits and missing inputs."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from mshc.data.prepare import PrepareParams, prepare, subsample
from mshc.data.registry import dataset_params

NSMC_HEADER = "id\tdocument\tlabel"
KORNLI_HEADER = "sentence1\tsentence2\tgold_label"


def write(path: Path, lines: list[str]) -> Path:
    """Write `lines` as UTF-8 under `path`, making its folder, and return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def nsmc_lines(count: int, start: int = 0) -> list[str]:
    """Return an NSMC file of `count` reviews numbered from `start`, labels 0/1."""
    rows = [
        f"{9000 + i}\t리뷰 {i:04d} 재미있다\t{i % 2}"
        for i in range(start, start + count)
    ]
    return [NSMC_HEADER, *rows]


def review_numbers(table: pd.DataFrame) -> list[int]:
    """Return the review numbers written by `nsmc_lines`, in table order."""
    return [int(text.split()[1]) for text in table["text"]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository root whose data/raw contains 40 NSMC train and 20 test reviews."""
    raw = tmp_path / "data" / "raw"
    write(raw / "nsmc" / "ratings_train.txt", nsmc_lines(40))
    write(raw / "nsmc" / "ratings_test.txt", nsmc_lines(20, start=100))
    return tmp_path


def run_nsmc(root: Path, seed: int = 0, max_bad_rows: int = 0, **sizes):
    dataset = dataset_params("nsmc", sizes)
    params = PrepareParams(seed=seed, max_bad_rows=max_bad_rows)
    return prepare(dataset, params, root / "data" / "raw", root)


# Seeded subsets


def test_subset_sizes(root):
    result = run_nsmc(root, train_size=10, test_size=5)

    assert len(result.tables["train"]) == 10
    assert len(result.tables["test"]) == 5
    assert result.report["splits"]["train"] == {
        "rows_read": 40,
        "rows_parsed": 40,
        "rows": 10,
    }
    assert result.report["splits"]["test"] == {
        "rows_read": 20,
        "rows_parsed": 20,
        "rows": 5,
    }


def test_subset_same_seed_same_rows(root):
    first = run_nsmc(root, seed=7, train_size=10)
    second = run_nsmc(root, seed=7, train_size=10)

    pd.testing.assert_frame_equal(first.tables["train"], second.tables["train"])


def test_subset_other_seed_other_rows(root):
    first = run_nsmc(root, seed=0, train_size=10)
    second = run_nsmc(root, seed=1, train_size=10)

    assert review_numbers(first.tables["train"]) != review_numbers(
        second.tables["train"]
    )


def test_subset_keeps_file_order(root):
    result = run_nsmc(root, seed=3, train_size=10)
    numbers = review_numbers(result.tables["train"])

    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 10
    assert set(numbers) <= set(range(40))
    assert result.tables["train"].index.tolist() == list(range(10))


def test_subset_rows_unchanged(root):
    result = run_nsmc(root, seed=3, train_size=10)
    table = result.tables["train"]

    for text, label in zip(table["text"], table["label"], strict=True):
        number = int(text.split()[1])
        assert text == f"리뷰 {number:04d} 재미있다"
        assert label == str(number % 2)


def test_subset_splits_draw_separately():
    # Same rows and same size in both splits: each split has its own stream.
    table = pd.DataFrame({"n": range(100)})

    train = subsample(table, 10, 0, "train", "k")
    test = subsample(table, 10, 0, "test", "k")

    assert train["n"].tolist() != test["n"].tolist()


def test_subset_none_keeps_all(root):
    result = run_nsmc(root)

    assert review_numbers(result.tables["train"]) == list(range(40))
    assert review_numbers(result.tables["test"]) == list(range(100, 120))


def test_subset_full_size_keeps_all(root):
    result = run_nsmc(root, train_size=40)

    assert review_numbers(result.tables["train"]) == list(range(40))


def test_subset_too_large_raises(root):
    message = re.escape(
        "datasets.nsmc.train_size=41 exceeds the 40 rows of the train split"
    )

    with pytest.raises(ValueError, match=message):
        run_nsmc(root, train_size=41)


def test_subset_test_too_large_raises(root):
    message = re.escape(
        "datasets.nsmc.test_size=21 exceeds the 20 rows of the test split"
    )

    with pytest.raises(ValueError, match=message):
        run_nsmc(root, test_size=21)


# Malformed rows


@pytest.fixture
def bad_root(root: Path) -> Path:
    """The `root` fixture with two malformed rows in the NSMC train file."""
    lines = nsmc_lines(6)
    lines[3] = "9002\t평점이 2점이다\t2"  # line 4
    lines[5] = "9004\t필드가 모자라다"  # line 6
    write(root / "data" / "raw" / "nsmc" / "ratings_train.txt", lines)
    return root


def test_bad_rows_over_limit_raise(bad_root):
    with pytest.raises(ValueError) as info:
        run_nsmc(bad_root, max_bad_rows=0)

    message = str(info.value)
    assert "2 malformed rows in dataset 'nsmc'" in message
    assert "data/raw/nsmc/ratings_train.txt:4: label='2' is not 0 or 1" in message
    assert "data/raw/nsmc/ratings_train.txt:6: expected 3" in message
    assert "prepare.max_bad_rows (now 0)" in message


def test_bad_rows_one_over_limit_raise(bad_root):
    with pytest.raises(ValueError, match=r"prepare\.max_bad_rows \(now 1\)"):
        run_nsmc(bad_root, max_bad_rows=1)


def test_bad_rows_within_limit_skipped(bad_root):
    result = run_nsmc(bad_root, max_bad_rows=2)

    assert review_numbers(result.tables["train"]) == [0, 1, 3, 5]
    assert result.report["bad_rows"] == 2
    assert result.report["bad_row_list"] == [
        "data/raw/nsmc/ratings_train.txt:4: label='2' is not 0 or 1",
        "data/raw/nsmc/ratings_train.txt:6: expected 3 tab-separated fields, found 2",
    ]
    assert result.report["splits"]["train"] == {
        "rows_read": 6,
        "rows_parsed": 4,
        "rows": 4,
    }


def test_bad_rows_error_lists_five(root):
    lines = nsmc_lines(10)
    for index in range(1, 8):
        lines[index] = f"{index}\t라벨이 틀렸다\t9"
    write(root / "data" / "raw" / "nsmc" / "ratings_train.txt", lines)

    with pytest.raises(ValueError) as info:
        run_nsmc(root)

    message = str(info.value)
    assert "7 malformed rows" in message
    assert "ratings_train.txt:6:" in message
    assert "ratings_train.txt:7:" not in message
    assert "and 2 more" in message


def test_report_fields(root):
    result = run_nsmc(root, train_size=4)

    assert result.report["dataset"] == "nsmc"
    assert result.report["task"] == "classification"
    assert result.report["bad_rows"] == 0
    assert result.report["bad_row_list"] == []


# Missing inputs


def test_builtin_missing_file_raises(root):
    (root / "data" / "raw" / "nsmc" / "ratings_test.txt").unlink()

    with pytest.raises(FileNotFoundError) as info:
        run_nsmc(root)

    message = str(info.value)
    assert "ratings_test.txt not found" in message
    assert "run 'dvc repro fetch' first" in message


def test_custom_missing_file_raises(tmp_path):
    dataset = dataset_params(
        "mine", {"task": "sts", "format": "csv", "test": "data/custom/mine.csv"}
    )

    with pytest.raises(FileNotFoundError) as info:
        prepare(dataset, PrepareParams(0, 0), tmp_path / "data" / "raw", tmp_path)

    message = str(info.value)
    assert f"{tmp_path / 'data' / 'custom' / 'mine.csv'} not found" in message
    assert "datasets.mine.test" in message
    assert "relative to the repository root" in message


# Datasets with several files and user datasets


def test_split_files_concatenated(tmp_path):
    raw = tmp_path / "data" / "raw"
    write(
        raw / "kornli" / "xnli.dev.ko.tsv",
        [KORNLI_HEADER, "개발 1.\t가설.\tentailment", "개발 2.\t가설.\tneutral"],
    )
    write(
        raw / "kornli" / "xnli.test.ko.tsv",
        [KORNLI_HEADER, "시험 1.\t가설.\tcontradiction"],
    )
    write(
        raw / "klue-nli" / "klue-nli-v1.1_dev.json",
        [
            "[",
            '  {"guid": "g0", "premise": "클루 1.", "hypothesis": "가설.",'
            ' "gold_label": "neutral"}',
            "]",
        ],
    )

    result = prepare(dataset_params("klue-nli", {}), PrepareParams(0, 0), raw, tmp_path)

    assert result.tables["train"]["premise"].tolist() == [
        "개발 1.",
        "개발 2.",
        "시험 1.",
    ]
    assert result.tables["test"]["premise"].tolist() == ["클루 1."]
    assert result.report["splits"]["train"]["rows_read"] == 3


def test_custom_dataset_relative_to_root(tmp_path):
    write(
        tmp_path / "data" / "custom" / "train.csv",
        ["리뷰,별점", "좋다,1", "싫다,0", "보통,1"],
    )
    write(
        tmp_path / "data" / "custom" / "test.csv",
        ["리뷰,별점", "최고,1", "최악,0", "별로,x,y"],
    )
    dataset = dataset_params(
        "mine",
        {
            "task": "classification",
            "format": "csv",
            "train": "data/custom/train.csv",
            "test": "data/custom/test.csv",
            "columns": {"text": "리뷰", "label": "별점"},
            "train_size": 2,
        },
    )

    result = prepare(dataset, PrepareParams(0, 1), tmp_path / "data" / "raw", tmp_path)

    assert len(result.tables["train"]) == 2
    assert result.tables["test"]["text"].tolist() == ["최고", "최악"]
    assert result.report["bad_row_list"] == [
        "data/custom/test.csv:4: expected 2 comma-separated fields, found 3"
    ]


# PrepareParams


def test_params_defaults():
    params = PrepareParams.from_params({"prepare": {}})

    assert params == PrepareParams(seed=0, max_bad_rows=0)


def test_params_negative_max_bad_rows_raises():
    with pytest.raises(ValueError, match=r"prepare\.max_bad_rows=-1 must be 0"):
        PrepareParams.from_params({"prepare": {"max_bad_rows": -1}})


def test_params_wrong_type_raises():
    with pytest.raises(TypeError, match=r"prepare\.max_bad_rows='3'"):
        PrepareParams.from_params({"prepare": {"max_bad_rows": "3"}})


def test_params_unknown_key_raises():
    with pytest.raises(ValueError, match="did you mean 'seed'"):
        PrepareParams.from_params({"prepare": {"sed": 1}})


def test_params_negative_seed_raises():
    with pytest.raises(ValueError, match=r"prepare\.seed"):
        PrepareParams.from_params({"prepare": {"seed": -1}})


@pytest.mark.parametrize("fmt, header", [("csv", "리뷰,별점"), ("tsv", "리뷰\t별점")])
def test_custom_missing_column_names_header(tmp_path, fmt, header):
    write(
        tmp_path / "data" / "custom" / f"test.{fmt}",
        [header, "좋다,1".replace(",", "\t" if fmt == "tsv" else ",")],
    )
    dataset = dataset_params(
        "mine",
        {
            "task": "classification",
            "format": fmt,
            "train": f"data/custom/test.{fmt}",
            "test": f"data/custom/test.{fmt}",
            "columns": {"text": "리뷰", "label": "stars"},
        },
    )
    message = re.escape(
        "(datasets.mine.train) has no column 'stars' (for label); its columns are "
        "리뷰, 별점. Fix datasets.mine.columns"
    )

    with pytest.raises(ValueError, match=message):
        prepare(dataset, PrepareParams(0, 0), tmp_path / "data" / "raw", tmp_path)


def test_custom_jsonl_missing_column(tmp_path):
    write(tmp_path / "test.jsonl", ['{"s1": "가", "s2": "나", "score": 1.0}'])
    dataset = dataset_params(
        "pairs",
        {
            "task": "sts",
            "format": "jsonl",
            "test": "test.jsonl",
            "columns": {"sentence1": "s1"},
        },
    )

    with pytest.raises(
        ValueError, match=r"has no column 'sentence2' \(for sentence2\)"
    ):
        prepare(dataset, PrepareParams(0, 0), tmp_path / "raw", tmp_path)


def test_bad_row_error_says_one_row(root):
    lines = nsmc_lines(6)
    lines[2] = "9001\t평점이 2점이다\t2"
    write(root / "data" / "raw" / "nsmc" / "ratings_train.txt", lines)

    with pytest.raises(ValueError, match=r"^1 malformed row in dataset 'nsmc'"):
        run_nsmc(root)
