"""Built-in datasets and the checked parameters of every dataset, built-in or user's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from mshc.config import (
    check_keys,
    check_positive_int,
    check_type,
    section,
    unknown_name_error,
)
from mshc.data.formats import COLUMNS, GENERIC_FORMATS, TASKS, Task

SPLITS = ("train", "test")


@dataclass(frozen=True)
class SplitFile:
    """One file of a split: its path and its format.

    Built-in paths are relative to `data/raw/` (where `fetch` puts them); paths of
    user datasets are relative to the repository root.
    """

    path: str
    format: str


@dataclass(frozen=True)
class BuiltinDataset:
    """A built-in dataset: its task, its files per split, and its source and licence."""

    task: Task
    splits: Mapping[str, tuple[SplitFile, ...]]
    description: str


BUILTIN_DATASETS: dict[str, BuiltinDataset] = {
    "klue-sts": BuiltinDataset(
        task="sts",
        splits={
            "test": (SplitFile("klue-sts/klue-sts-v1.1_dev.json", "klue-sts-json"),)
        },
        description="KLUE-STS v1.1 dev (CC BY-SA 4.0); scored like mteb's KLUE-STS",
    ),
    "korsts": BuiltinDataset(
        task="sts",
        splits={
            "train": (SplitFile("korsts/sts-train.tsv", "korsts-tsv"),),
            "test": (SplitFile("korsts/sts-test.tsv", "korsts-tsv"),),
        },
        description="KorSTS (kakaobrain, CC BY-SA 4.0); train for fitting, test scored",
    ),
    "klue-nli": BuiltinDataset(
        task="pair-classification",
        splits={
            # KLUE's own train split is not in the offline data, so the 3-way probe
            # is trained on KorNLI's XNLI dev and test translations instead.
            "train": (
                SplitFile("kornli/xnli.dev.ko.tsv", "kornli-tsv"),
                SplitFile("kornli/xnli.test.ko.tsv", "kornli-tsv"),
            ),
            "test": (SplitFile("klue-nli/klue-nli-v1.1_dev.json", "klue-nli-json"),),
        },
        description="KLUE-NLI v1.1 dev scored; probe trained on KorNLI XNLI dev+test",
    ),
    "kornli": BuiltinDataset(
        task="pair-classification",
        splits={
            "train": (SplitFile("kornli/xnli.dev.ko.tsv", "kornli-tsv"),),
            "test": (SplitFile("kornli/xnli.test.ko.tsv", "kornli-tsv"),),
        },
        description="KorNLI XNLI (kakaobrain, CC BY-SA 4.0); probe on dev, scored on test",
    ),
    "nsmc": BuiltinDataset(
        task="classification",
        splits={
            "train": (SplitFile("nsmc/ratings_train.txt", "nsmc-tsv"),),
            "test": (SplitFile("nsmc/ratings_test.txt", "nsmc-tsv"),),
        },
        description="NSMC rebuilt from raw (CC0); seeded train/test subsets",
    ),
}

SIZE_KEYS = ("train_size", "test_size")
CUSTOM_KEYS = ("task", "format", "train", "test", "columns", *SIZE_KEYS)


@dataclass(frozen=True)
class DatasetParams:
    """One entry of the `datasets` section, resolved against the registry.

    Attributes:
        name: the key in `datasets`; also the DVC stage suffix (`prepare@name`).
        task: `sts`, `pair-classification` or `classification`.
        splits: split name -> the files it is read from.
        columns: canonical column -> column in the file, for generic formats.
        train_size: rows kept from the train split by a seeded draw; None keeps all.
        test_size: rows kept from the test split by a seeded draw; None keeps all.
        builtin: whether the files come from `data/raw/` (fetched) or the user.
    """

    name: str
    task: Task
    splits: Mapping[str, tuple[SplitFile, ...]]
    columns: Mapping[str, str]
    train_size: int | None
    test_size: int | None
    builtin: bool

    def size_of(self, split: str) -> int | None:
        """Return the subset size set for `split`, or None to keep every row."""
        return self.train_size if split == "train" else self.test_size

    def resolve(self, split_file: SplitFile, raw_dir: Path, root: Path) -> Path:
        """Return the path of a split file on disk."""
        base = raw_dir if self.builtin else root
        return base / split_file.path


def _sizes(raw: Mapping[str, Any], key: str) -> dict[str, int | None]:
    return {
        k: check_positive_int(raw.get(k), f"{key}.{k}", allow_none=True)
        for k in SIZE_KEYS
    }


def _custom_dataset(name: str, raw: Mapping[str, Any]) -> DatasetParams:
    key = f"datasets.{name}"
    check_keys(raw, CUSTOM_KEYS, key)
    task = check_type(raw["task"], str, f"{key}.task")
    if task not in TASKS:
        raise unknown_name_error("task", task, f"{key}.task", TASKS)

    fmt = check_type(raw.get("format"), str, f"{key}.format")
    if fmt not in GENERIC_FORMATS:
        raise unknown_name_error("format", fmt, f"{key}.format", GENERIC_FORMATS)
    if raw.get("test") is None:
        raise ValueError(
            f"{key} has no 'test' file; set {key}.test to the path of the file to score"
        )

    splits = {}
    for split in SPLITS:
        if split in raw and raw[split] is not None:
            path = check_type(raw[split], str, f"{key}.{split}")
            splits[split] = (SplitFile(path, fmt),)

    columns_raw = check_type(raw.get("columns", {}), dict, f"{key}.columns")
    check_keys(columns_raw, COLUMNS[task], f"{key}.columns")
    columns = {
        c: check_type(columns_raw.get(c, c), str, f"{key}.columns.{c}")
        for c in COLUMNS[task]
    }

    if task == "classification" and "train" not in splits:
        raise ValueError(
            f"{key} is a classification dataset without a 'train' file; the probe needs "
            f"one, so set {key}.train"
        )
    return DatasetParams(
        name=name,
        task=cast(Task, task),
        splits=splits,
        columns=columns,
        builtin=False,
        **_sizes(raw, key),
    )


def dataset_params(name: str, raw: Any) -> DatasetParams:
    """Check one `datasets` entry and resolve it against the built-in registry.

    A name found in `BUILTIN_DATASETS` takes only subset sizes. Any other name is a
    user dataset and needs `task`, `format` and a `test` file.

    Raises:
        ValueError: an unknown name without `task`, or a bad key or value.
        TypeError: a value of the wrong type.
    """
    key = f"datasets.{name}"
    raw = {} if raw is None else check_type(raw, dict, key)
    if name in BUILTIN_DATASETS:
        check_keys(raw, SIZE_KEYS, key)
        spec = BUILTIN_DATASETS[name]
        return DatasetParams(
            name=name,
            task=spec.task,
            splits=spec.splits,
            columns={c: c for c in COLUMNS[spec.task]},
            builtin=True,
            **_sizes(raw, key),
        )
    if "task" not in raw:
        error = unknown_name_error("dataset", name, "datasets", BUILTIN_DATASETS)
        end = "" if str(error).endswith("?") else "."
        raise ValueError(
            f"{error}{end} To register your own data instead, give {key}.task, "
            f"{key}.format and {key}.test (see the README)"
        )
    return _custom_dataset(name, raw)


def all_dataset_params(params: Mapping[str, Any]) -> dict[str, DatasetParams]:
    """Check every entry of the `datasets` section."""
    raw = section(params, "datasets")
    if not raw:
        raise ValueError("the datasets section is empty; list at least one dataset")
    return {str(name): dataset_params(str(name), value) for name, value in raw.items()}


def get_dataset_params(params: Mapping[str, Any], name: str) -> DatasetParams:
    """Check and return one entry of the `datasets` section by name.

    Raises:
        ValueError: `name` is not in the `datasets` section.
    """
    raw = section(params, "datasets")
    if name not in raw:
        raise unknown_name_error(
            "dataset", name, "the datasets section of params.yaml", raw
        )
    return dataset_params(name, raw[name])
