"""Turn fetched upstream files into canonical parquet tables with seeded subsets."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from mshc.config import check_keys, check_seed, check_type, section
from mshc.data.formats import BadRow, parse_file, read_header
from mshc.data.registry import SPLITS, DatasetParams
from mshc.io import read_json

logger = logging.getLogger(__name__)

MAX_LISTED_BAD_ROWS = 50


@dataclass(frozen=True)
class PrepareParams:
    """The `prepare` section.

    Attributes:
        seed: seed of the subset draws; each split draws from its own stream.
        max_bad_rows: rows that fail to parse and may be skipped, per dataset,
            before prepare stops; every skipped row is named in the log and metrics.
    """

    seed: int
    max_bad_rows: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PrepareParams:
        """Check and build the section from the parsed `params.yaml`."""
        raw = section(params, "prepare")
        check_keys(raw, cls.__dataclass_fields__, "prepare")
        max_bad = check_type(raw.get("max_bad_rows", 0), int, "prepare.max_bad_rows")
        if max_bad < 0:
            raise ValueError(f"prepare.max_bad_rows={max_bad} must be 0 or more")
        return cls(
            seed=check_seed(raw.get("seed", 0), "prepare.seed"),
            max_bad_rows=max_bad,
        )


@dataclass
class PreparedDataset:
    """Canonical tables of one dataset and what happened while making them."""

    tables: dict[str, pd.DataFrame]
    report: dict[str, Any]


def check_files(dataset: DatasetParams, raw_dir: Path, root: Path) -> None:
    """Raise before parsing when any file of `dataset` is missing.

    Raises:
        FileNotFoundError: a file is missing. The message gives the command that makes it.
    """
    for split, files in dataset.splits.items():
        for split_file in files:
            path = dataset.resolve(split_file, raw_dir, root)
            if path.is_file():
                if not dataset.builtin:
                    _check_header(dataset, split, path, split_file.format)
                continue
            if dataset.builtin:
                raise FileNotFoundError(
                    f"{path} not found; run 'dvc repro fetch' first"
                )
            raise FileNotFoundError(
                f"{path} not found (datasets.{dataset.name}.{split}); the path is "
                f"relative to the repository root, so put the file there or fix the path"
            )


def _check_header(dataset: DatasetParams, split: str, path: Path, fmt: str) -> None:
    header = read_header(path, fmt)
    if header is None:
        return
    missing = [
        f"'{source}' (for {c})"
        for c, source in dataset.columns.items()
        if source not in header
    ]
    if missing:
        raise ValueError(
            f"{path} (datasets.{dataset.name}.{split}) has no column {', '.join(missing)}; "
            f"its columns are {', '.join(header)}. Fix datasets.{dataset.name}.columns"
        )


def subsample(
    table: pd.DataFrame, size: int | None, seed: int, split: str, key: str
) -> pd.DataFrame:
    """Keep `size` rows drawn without replacement, in their original order.

    Raises:
        ValueError: `size` exceeds the number of rows.
    """
    if size is None:
        return table
    if size > len(table):
        raise ValueError(
            f"{key}={size} exceeds the {len(table)} rows of the {split} split; "
            f"lower it, or set it to null to keep every row"
        )
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    keep = np.sort(rng.choice(len(table), size=size, replace=False))
    return table.iloc[keep].reset_index(drop=True)


def _bad_rows_error(
    dataset: DatasetParams, bad: list[BadRow], limit: int
) -> ValueError:
    listed = "; ".join(str(b) for b in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    return ValueError(
        f"{len(bad)} malformed {'row' if len(bad) == 1 else 'rows'} in dataset "
        f"'{dataset.name}': {listed}{more}. "
        f"Fix those rows, or raise prepare.max_bad_rows (now {limit}) to skip them"
    )


def prepare(
    dataset: DatasetParams, params: PrepareParams, raw_dir: Path, root: Path
) -> PreparedDataset:
    """Parse every split of `dataset` and draw its seeded subsets.

    Raises:
        FileNotFoundError: an input file is missing.
        ValueError: more malformed rows than `max_bad_rows`, or a subset larger
            than its split.
    """
    check_files(dataset, raw_dir, root)
    tables: dict[str, pd.DataFrame] = {}
    bad: list[BadRow] = []
    splits: dict[str, dict[str, int]] = {}
    sources: dict[str, list[str]] = {}
    for split, files in dataset.splits.items():
        parts = []
        read = 0
        for split_file in files:
            path = dataset.resolve(split_file, raw_dir, root)
            display_path = (
                str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
            )
            sources.setdefault(split, []).append(split_file.path)
            result = parse_file(
                path, split_file.format, dataset.task, dataset.columns, display_path
            )
            parts.append(result.table)
            bad.extend(result.bad_rows)
            read += result.rows_read
        table = pd.concat(parts, ignore_index=True)
        size_key = f"datasets.{dataset.name}.{split}_size"
        subset = subsample(table, dataset.size_of(split), params.seed, split, size_key)
        tables[split] = subset
        splits[split] = {
            "rows_read": read,
            "rows_parsed": len(table),
            "rows": len(subset),
        }
        logger.info(
            "%s/%s: %d rows read, %d parsed, %d kept",
            dataset.name,
            split,
            read,
            len(table),
            len(subset),
        )
    if len(bad) > params.max_bad_rows:
        raise _bad_rows_error(dataset, bad, params.max_bad_rows)
    for row in bad:
        logger.warning("skipped malformed row %s", row)
    report = {
        "dataset": dataset.name,
        "task": dataset.task,
        "splits": splits,
        "files": sources,
        "bad_rows": len(bad),
        "bad_row_list": [str(b) for b in bad[:MAX_LISTED_BAD_ROWS]],
    }
    return PreparedDataset(tables=tables, report=report)


def load_prepared(folder: Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Read `dataset.json` and the split tables written by the prepare stage.

    Raises:
        FileNotFoundError: the folder was not made by the prepare stage.
    """
    manifest_path = folder / "dataset.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{manifest_path} not found; run 'dvc repro prepare@{folder.name}' first"
        )
    manifest = cast(dict[str, Any], read_json(manifest_path))
    tables = {
        split: pd.read_parquet(folder / f"{split}.parquet")
        for split in manifest["splits"]
    }
    return manifest, tables
