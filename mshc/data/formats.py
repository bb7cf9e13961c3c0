"""Parsers for the upstream file formats into canonical tables.

Canonical tables, by task:
  sts: `sentence1`, `sentence2`, `score` (float, 0-5 for the built-in sets)
  pair-classification: `premise`, `hypothesis`, `label` (str)
  classification: `text`, `label` (str)

Every parser returns the rows it could read and a list of the rows it could not,
each named by file and line, so nothing malformed is kept silently.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from mshc.config import unknown_name_error

Task = Literal["sts", "pair-classification", "classification"]
TASKS: tuple[Task, ...] = ("sts", "pair-classification", "classification")

COLUMNS: dict[str, tuple[str, ...]] = {
    "sts": ("sentence1", "sentence2", "score"),
    "pair-classification": ("premise", "hypothesis", "label"),
    "classification": ("text", "label"),
}
NLI_LABELS = ("entailment", "neutral", "contradiction")


@dataclass(frozen=True)
class BadRow:
    """A row that could not be parsed: where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ParseResult:
    """Rows parsed from one file, plus the rows that were rejected."""

    table: pd.DataFrame
    bad_rows: list[BadRow] = field(default_factory=list)
    rows_read: int = 0


Record = dict[str, Any]
# A raw reader yields (line number, record, reason). The record is None when the line
# could not be split into fields, and the reason then names the problem.
RawRows = Iterator[tuple[int, Record | None, str]]


def _tsv_rows(path: Path) -> RawRows:
    """Yield the rows of a tab-separated file with a header line.

    KorSTS and KorNLI contain bare double quotes inside sentences, so each line is
    split on tabs alone, because a CSV reader with quoting on would merge rows. The
    last line may lack its newline.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        header: list[str] | None = None
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if header is None:
                header = line.split("\t")
                continue
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != len(header):
                yield (
                    number,
                    None,
                    f"expected {len(header)} tab-separated fields, found {len(fields)}",
                )
                continue
            yield number, dict(zip(header, fields, strict=True)), ""


def _csv_rows(path: Path) -> RawRows:
    """Yield the rows of a comma-separated file with a header, standard quoting."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header: list[str] | None = None
        while True:
            # A quoted field may span lines, so a record starts after the last one.
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield start, None, f"invalid CSV: {error}"
                continue
            if header is None:
                header = fields
                continue
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                yield (
                    start,
                    None,
                    f"expected {len(header)} comma-separated fields, found {len(fields)}",
                )
                continue
            yield start, dict(zip(header, fields, strict=True)), ""


def _jsonl_rows(path: Path) -> RawRows:
    """Yield one JSON object per non-empty line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                yield number, None, f"invalid JSON: {error.msg}"
                continue
            if not isinstance(item, dict):
                yield (
                    number,
                    None,
                    f"expected a JSON object, found {type(item).__name__}",
                )
                continue
            yield number, item, ""


def _json_list_rows(path: Path) -> RawRows:
    """Yield the objects of a JSON list with the line where each one starts.

    Raises:
        ValueError: the file is not a complete JSON list; the message gives the line.
    """
    text = path.read_text(encoding="utf-8")
    if not text.lstrip().startswith("["):
        raise ValueError(
            f"{path}:1: expected a JSON list of objects; the file is not one (an "
            f"error page saved by a failed download, perhaps), so fetch it again"
        )
    # Parse the whole file first, so that a truncated or damaged file fails with
    # the line of the damage instead of yielding the items before it.
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}:{error.lineno}: invalid JSON ({error.msg}); the file is damaged "
            f"or incomplete, so fetch it again"
        ) from error
    if not isinstance(items, list):
        raise ValueError(
            f"{path}:1: expected a JSON list of objects, found {type(items).__name__}"
        )
    # A second pass over the valid text finds the line where each item starts.
    decoder = json.JSONDecoder()
    pos = _skip_space(text, text.index("[") + 1)
    for item in items:
        line = text.count("\n", 0, pos) + 1
        pos = _skip_space(text, decoder.raw_decode(text, pos)[1])
        pos = _skip_space(text, pos + 1) if text.startswith(",", pos) else pos
        if isinstance(item, dict):
            yield line, item, ""
        else:
            yield line, None, f"expected a JSON object, found {type(item).__name__}"


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is empty or not text")
    return value


def _score(value: Any, name: str) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not a number") from None
    if not math.isfinite(score):
        raise ValueError(f"{name}={value!r} is not finite")
    return score


def _label(value: Any, name: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{name} is empty")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _nli_label(value: Any, name: str) -> str:
    label = _label(value, name)
    if label not in NLI_LABELS:
        raise ValueError(f"{name}={label!r} is not one of {', '.join(NLI_LABELS)}")
    return label


def _sts_score_0_5(value: Any, name: str) -> float:
    score = _score(value, name)
    if not 0.0 <= score <= 5.0:
        raise ValueError(f"{name}={score} is outside 0-5")
    return score


def _klue_sts(item: Record) -> Record:
    labels = item.get("labels")
    if not isinstance(labels, dict):
        raise ValueError("'labels' is missing")
    # mteb's KLUE-STS task scores against labels.label (one decimal), not real-label.
    return {
        "sentence1": _text(item.get("sentence1"), "sentence1"),
        "sentence2": _text(item.get("sentence2"), "sentence2"),
        "score": _sts_score_0_5(labels.get("label"), "labels.label"),
    }


def _klue_nli(item: Record) -> Record:
    return {
        "premise": _text(item.get("premise"), "premise"),
        "hypothesis": _text(item.get("hypothesis"), "hypothesis"),
        "label": _nli_label(item.get("gold_label"), "gold_label"),
    }


def _korsts(item: Record) -> Record:
    return {
        "sentence1": _text(item.get("sentence1"), "sentence1"),
        "sentence2": _text(item.get("sentence2"), "sentence2"),
        "score": _sts_score_0_5(item.get("score"), "score"),
    }


def _kornli(item: Record) -> Record:
    return {
        "premise": _text(item.get("sentence1"), "sentence1"),
        "hypothesis": _text(item.get("sentence2"), "sentence2"),
        "label": _nli_label(item.get("gold_label"), "gold_label"),
    }


def _nsmc(item: Record) -> Record:
    label = _label(item.get("label"), "label")
    if label not in ("0", "1"):
        raise ValueError(f"label={label!r} is not 0 or 1")
    return {"text": _text(item.get("document"), "document"), "label": label}


@dataclass(frozen=True)
class Format:
    """An upstream file layout: how to split it into records and map them to a task."""

    reader: Callable[[Path], RawRows]
    task: Task | None
    mapper: Callable[[Record], Record] | None


FORMATS: dict[str, Format] = {
    "klue-sts-json": Format(_json_list_rows, "sts", _klue_sts),
    "klue-nli-json": Format(_json_list_rows, "pair-classification", _klue_nli),
    "korsts-tsv": Format(_tsv_rows, "sts", _korsts),
    "kornli-tsv": Format(_tsv_rows, "pair-classification", _kornli),
    "nsmc-tsv": Format(_tsv_rows, "classification", _nsmc),
    # Generic layouts for user data: the task and column names come from params.
    "csv": Format(_csv_rows, None, None),
    "tsv": Format(_tsv_rows, None, None),
    "jsonl": Format(_jsonl_rows, None, None),
}
GENERIC_FORMATS = ("csv", "tsv", "jsonl")


def read_header(path: Path, fmt: str) -> list[str] | None:
    """Return the column names of a generic-format file, or None when unknown.

    For csv and tsv this is the header line; for jsonl, the keys of the first
    object. A file whose first record cannot be read returns None, and the row
    parser then reports it by line.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            return next(csv.reader(handle), None)
        first = handle.readline()
        if fmt == "tsv":
            return first.rstrip("\r\n").split("\t")
        while first and not first.strip():
            first = handle.readline()
    try:
        item = json.loads(first)
    except json.JSONDecodeError:
        return None
    return list(item) if isinstance(item, dict) else None


def _column_mapper(
    task: Task, columns: Mapping[str, str]
) -> Callable[[Record], Record]:
    """Map a user's record to the canonical columns named in `columns`."""

    def mapper(item: Record) -> Record:
        out: Record = {}
        for canonical in COLUMNS[task]:
            source = columns[canonical]
            if source not in item:
                raise ValueError(f"column '{source}' (for {canonical}) is missing")
            value = item[source]
            if canonical == "score":
                out[canonical] = _score(value, source)
            elif canonical == "label":
                out[canonical] = _label(value, source)
            else:
                out[canonical] = _text(value, source)
        return out

    return mapper


def parse_file(
    path: Path,
    fmt: str,
    task: Task,
    columns: Mapping[str, str] | None = None,
    display_name: str | None = None,
) -> ParseResult:
    """Parse one upstream file into a canonical table for `task`.

    Args:
        path: the file to read.
        fmt: a key of `FORMATS`.
        task: the task the table is for; a built-in format must match it.
        columns: for generic formats, canonical column -> column in the file.
        display_name: how the file is named in bad-row reports (default: `path`).

    Returns:
        The parsed rows in file order, and the rows that could not be parsed.

    Raises:
        ValueError: unknown format, a format for another task, or a damaged JSON list.
    """
    if fmt not in FORMATS:
        raise unknown_name_error("format", fmt, f"the format of {path}", FORMATS)
    spec = FORMATS[fmt]
    if spec.task is not None and spec.task != task:
        raise ValueError(
            f"format '{fmt}' is for {spec.task} data, not {task}; pick a {task} format"
        )
    if spec.mapper is not None:
        mapper = spec.mapper
    else:
        mapper = _column_mapper(task, columns or {c: c for c in COLUMNS[task]})
    name = display_name or str(path)
    rows: list[Record] = []
    bad: list[BadRow] = []
    read = 0
    for line, record, problem in spec.reader(path):
        read += 1
        if record is None:
            bad.append(BadRow(name, line, problem))
            continue
        try:
            rows.append(mapper(record))
        except ValueError as error:
            bad.append(BadRow(name, line, str(error)))
    table = pd.DataFrame(rows, columns=list(COLUMNS[task]))
    if task == "sts":
        table["score"] = table["score"].astype("float64")
    return ParseResult(table=table, bad_rows=bad, rows_read=read)
