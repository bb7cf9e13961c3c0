"""Report tables of mshc.report.tables from hand-made metrics records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mshc.report.tables import load_records, long_table, markdown, wide_table


def variant(dim: int, scores: dict[str, float], full: dict[str, float], main: str):
    """Return one variant entry as mshc.evaluate.runner.evaluate_dataset writes it."""
    bits = 32 * dim
    entry: dict[str, float] = {
        "dim": dim,
        "bits_per_vector": bits,
        "bytes_per_vector": bits / 8,
        "compression_ratio": 32 * 512 / bits,
        **scores,
    }
    for metric, value in scores.items():
        entry[f"retention_{metric}"] = 100 * value / full[metric]
    entry["score"] = entry[main]
    entry["retention"] = entry[f"retention_{main}"]
    return entry


def sts_record():
    full = {"spearman_cosine": 80.0, "pearson_cosine": 78.0}
    scores = {
        "full": (512, full),
        "truncate_64": (64, {"spearman_cosine": 60.0, "pearson_cosine": 58.5}),
        "truncate_256": (256, {"spearman_cosine": 76.0, "pearson_cosine": 74.1}),
        "truncate_16": (16, {"spearman_cosine": 40.0, "pearson_cosine": 39.0}),
    }
    return {
        "dataset": "korsts",
        "task": "sts",
        "encoder": "usem3",
        "full_dim": 512,
        "main_score": "spearman_cosine",
        "protocols": {
            "spearman_cosine": "Spearman protocol",
            "pearson_cosine": "Pearson protocol",
        },
        "test_rows": 1379,
        "train_rows": 5749,
        "variants": {
            name: variant(dim, values, full, "spearman_cosine")
            for name, (dim, values) in scores.items()
        },
    }


def classification_record():
    full = {"accuracy": 75.0}
    scores = {
        "truncate_64": (64, {"accuracy": 60.0}),
        "full": (512, full),
        "truncate_256": (256, {"accuracy": 72.0}),
        "truncate_16": (16, {"accuracy": 52.5}),
    }
    return {
        "dataset": "nsmc",
        "task": "classification",
        "encoder": "usem3",
        "full_dim": 512,
        "main_score": "accuracy",
        "protocols": {"accuracy": "probe protocol"},
        "test_rows": 5000,
        "train_rows": 10000,
        "variants": {
            name: variant(dim, values, full, "accuracy")
            for name, (dim, values) in scores.items()
        },
    }


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    """A metrics folder with evaluate files for nsmc and korsts, and one other file."""
    folder = tmp_path / "metrics"
    (folder / "evaluate").mkdir(parents=True)
    for record in (classification_record(), sts_record()):
        path = folder / "evaluate" / f"{record['dataset']}.json"
        path.write_text(json.dumps(record), encoding="utf-8")
    (folder / "prepare-nsmc.json").write_text("{}", encoding="utf-8")
    return folder


# load_records


def test_load_records_sorted(metrics_dir):
    records = load_records(metrics_dir)

    assert [r["dataset"] for r in records] == ["korsts", "nsmc"]


def test_load_records_empty_raises(tmp_path):
    (tmp_path / "prepare-nsmc.json").write_text("{}", encoding="utf-8")

    with pytest.raises(FileNotFoundError) as info:
        load_records(tmp_path)

    message = str(info.value)
    assert f"no *.json in {tmp_path / 'evaluate'}" in message
    assert "run 'dvc repro' first" in message


# long_table


def test_long_table_rows(metrics_dir):
    table = long_table(load_records(metrics_dir))

    # korsts: 4 variants x 2 metrics; nsmc: 4 variants x 1 metric.
    assert len(table) == 12
    assert table.groupby("dataset").size().to_dict() == {"korsts": 8, "nsmc": 4}
    assert set(table["metric"]) == {"spearman_cosine", "pearson_cosine", "accuracy"}


def test_long_table_values(metrics_dir):
    table = long_table(load_records(metrics_dir))
    row = table[
        (table["variant"] == "truncate_64") & (table["metric"] == "spearman_cosine")
    ]

    assert len(row) == 1
    assert row["dataset"].item() == "korsts"
    assert row["task"].item() == "sts"
    assert row["encoder"].item() == "usem3"
    assert row["dim"].item() == 64
    assert row["bits_per_vector"].item() == 2048
    assert row["bytes_per_vector"].item() == 256.0
    assert row["compression_ratio"].item() == 8.0
    assert row["value"].item() == 60.0
    assert row["retention"].item() == pytest.approx(75.0)
    assert row["main"].item()


def test_long_table_main_flag(metrics_dir):
    table = long_table(load_records(metrics_dir))

    main_metrics = set(table.loc[table["main"], "metric"])

    assert main_metrics == {"spearman_cosine", "accuracy"}


def test_long_table_skips_summary_keys(metrics_dir):
    # "score" and "retention" repeat the main metric and are not rows of their own.
    table = long_table(load_records(metrics_dir))

    assert "score" not in set(table["metric"])


# wide_table


def test_wide_table_variant_order(metrics_dir):
    # Sorted by name, truncate_16 would come before truncate_256 and truncate_64.
    wide = wide_table(long_table(load_records(metrics_dir)))

    assert wide["variant"].tolist() == [
        "full",
        "truncate_256",
        "truncate_64",
        "truncate_16",
    ]


def test_wide_table_full_first(metrics_dir):
    # A variant whose name sorts before "full" still comes after it.
    record = sts_record()
    full = record["variants"]["full"]
    record["variants"]["binary"] = {**full, "dim": 512, "bits_per_vector": 512}

    wide = wide_table(long_table([record]))

    assert wide["variant"].iloc[0] == "full"


def test_wide_table_columns(metrics_dir):
    wide = wide_table(long_table(load_records(metrics_dir)))

    assert list(wide.columns[:4]) == [
        "variant",
        "dim",
        "bits_per_vector",
        "compression_ratio",
    ]
    assert set(wide.columns[4:]) == {
        "korsts Spearman",
        "korsts Pearson",
        "nsmc probe acc.",
    }


def test_wide_table_cells(metrics_dir):
    wide = wide_table(long_table(load_records(metrics_dir))).set_index("variant")

    assert wide.loc["full", "korsts Spearman"] == "80.00 (100.0%)"
    assert wide.loc["truncate_64", "korsts Spearman"] == "60.00 (75.0%)"
    assert wide.loc["truncate_256", "korsts Pearson"] == "74.10 (95.0%)"
    assert wide.loc["truncate_256", "nsmc probe acc."] == "72.00 (96.0%)"
    assert wide.loc["truncate_64", "compression_ratio"] == "8x"
    assert wide.loc["full", "compression_ratio"] == "1x"
    assert wide.loc["truncate_256", "dim"] == 256


# markdown


def test_markdown_table_cells(metrics_dir):
    text = markdown(load_records(metrics_dir), "mshc 평가")
    lines = text.splitlines()

    assert lines[0] == "# mshc 평가"
    assert "Encoder: usem3." in text
    header = next(line for line in lines if line.startswith("| variant"))
    assert header.startswith("| variant | dim | bits_per_vector | compression_ratio |")
    rows = [line for line in lines if line.startswith("| ") and line != header]
    assert [row.split(" | ")[0] for row in rows] == [
        "| full",
        "| truncate_256",
        "| truncate_64",
        "| truncate_16",
    ]
    assert "| truncate_64 | 64 | 2048 | 8x |" in text
    assert "60.00 (75.0%)" in rows[2]
    assert "60.00 (80.0%)" in rows[2]


def test_markdown_protocols(metrics_dir):
    text = markdown(load_records(metrics_dir), "t")

    assert "- **korsts** (sts, test rows 1379, train rows 5749):" in text
    assert "  - Spearman: Spearman protocol" in text
    assert "  - probe acc.: probe protocol" in text


def test_markdown_omits_zero_train_rows(metrics_dir):
    record = sts_record()
    record["train_rows"] = 0

    text = markdown([record], "t")

    assert "- **korsts** (sts, test rows 1379):" in text
