"""Atomic file writes and repository paths shared by every stage."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd


def repo_root(start: Path | None = None) -> Path:
    """Return the folder that contains `dvc.yaml`, searching upwards from `start`.

    Experiments queued with `dvc exp run --queue` run in a copy of the repository
    under `.dvc/tmp/exps/`. For those the real repository above the copy is
    returned, so that every run logs into one MLflow database.
    """
    start_dir = (start or Path.cwd()).resolve()
    parts = start_dir.parts
    if ".dvc" in parts:
        index = parts.index(".dvc")
        if parts[index + 1 : index + 3] == ("tmp", "exps"):
            return Path(*parts[:index])
    for folder in (start_dir, *start_dir.parents):
        if (folder / "dvc.yaml").is_file():
            return folder
    return start_dir


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` and move it into place on success.

    A stage killed halfway leaves only the temporary file, which no later stage
    reads, instead of a truncated output.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_with(path: Path, writer: Callable[[Path], object]) -> None:
    with atomic_path(path) as tmp:
        writer(tmp)


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented UTF-8 JSON with sorted keys, atomically."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _write_with(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_json(path: Path) -> Any:
    """Read a JSON file written by `write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_npy(path: Path, array: npt.NDArray[Any]) -> None:
    """Write `array` in `.npy` format, atomically."""

    def writer(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.save(handle, array)

    _write_with(path, writer)


def write_parquet(path: Path, table: pd.DataFrame) -> None:
    """Write `table` as parquet without its index, atomically."""
    _write_with(path, lambda tmp: table.to_parquet(tmp, index=False))


def write_text(path: Path, text: str) -> None:
    """Write `text` as UTF-8, atomically."""
    _write_with(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def require_file(path: Path, make_with: str) -> Path:
    """Return `path` if it exists, else raise naming the command that makes it.

    Raises:
        FileNotFoundError: `path` does not exist.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; run '{make_with}' first")
    return path
