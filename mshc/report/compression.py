"""The ablation table and the MRL dimension sweep, from `metrics/compress/` and `metrics/sweep/`.

Rows of the ablation table are grouped by stored bits per vector, so every ladder step
sits beside the plain codecs that cost the same bits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mshc.report.tables import METRIC_LABELS

# Columns of the ablation table: (dataset, metric). Datasets missing from a run are
# left out; every metric is higher-is-better.
COLUMNS = (
    ("klue-sts", "spearman_cosine"),
    ("korsts", "spearman_cosine"),
    ("klue-nli", "max_ap"),
    ("klue-nli", "probe_accuracy"),
    ("nsmc", "accuracy"),
)


def load_folder(folder: Path) -> list[dict[str, Any]]:
    """Read every JSON file in `folder`, sorted by name; empty when it does not exist."""
    return [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))
    ]


def _columns(datasets: Sequence[str]) -> list[tuple[str, str]]:
    known = [c for c in COLUMNS if c[0] in datasets]
    return known + [(d, "score") for d in datasets if d not in {c[0] for c in COLUMNS}]


def describe_codec(config: Mapping[str, Any]) -> str:
    """Return a short label such as `pq(m=16, nbits=8)` for one codec config."""
    kind = config.get("kind", "?")
    shown = {
        "mrl": ("method", "dim"),
        "vq": ("groups", "codebook_size"),
        "pq": ("m", "nbits"),
        "opq": ("m", "nbits"),
        "sae": ("hidden", "k", "value_bits"),
    }.get(str(kind), ())
    args = ", ".join(f"{k}={config[k]}" for k in shown if k in config)
    return f"{kind}({args})" if args else str(kind)


def ablation_rows(
    evaluations: Sequence[Mapping[str, Any]], ablations: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """Return one row per (representation, dataset, metric).

    Representations are `full` and the truncations scored by `evaluate`, and every
    ablation.
    """
    rows: list[dict[str, Any]] = []
    for record in evaluations:
        for variant, values in record["variants"].items():
            for metric in METRIC_LABELS:
                if metric in values:
                    rows.append(
                        {
                            "name": variant,
                            "group": "full" if variant == "full" else "baseline",
                            "chain": "float32"
                            if variant == "full"
                            else f"mrl(truncate, dim={values['dim']})",
                            "bits_per_vector": int(values["bits_per_vector"]),
                            "compression_ratio": values["compression_ratio"],
                            "model_bytes": 0,
                            "fit_seconds": 0.0,
                            "dataset": record["dataset"],
                            "metric": metric,
                            "value": values[metric],
                            "retention": values[f"retention_{metric}"],
                        }
                    )
    for record in ablations:
        chain = " -> ".join(describe_codec(c) for c in record["chain"])
        for dataset, values in record["datasets"].items():
            for metric in METRIC_LABELS:
                if metric in values:
                    rows.append(
                        {
                            "name": record["ablation"],
                            "group": record["group"],
                            "chain": chain,
                            "bits_per_vector": int(record["bits_per_vector"]),
                            "compression_ratio": record["compression_ratio"],
                            "model_bytes": int(record["model_bytes"]),
                            "fit_seconds": record["fit_seconds"],
                            "dataset": dataset,
                            "metric": metric,
                            "value": values[metric],
                            "retention": values[f"retention_{metric}"],
                        }
                    )
    return pd.DataFrame(rows)


def _order(group: str) -> int:
    return {"full": 0, "ladder": 1, "baseline": 2}.get(group, 3)


def ablation_table(long: pd.DataFrame) -> pd.DataFrame:
    """Return the wide ablation table: one row per representation, sorted by bits."""
    datasets = list(dict.fromkeys(long["dataset"]))
    columns = _columns(datasets)
    index = [
        "name",
        "group",
        "chain",
        "bits_per_vector",
        "compression_ratio",
        "model_bytes",
    ]
    out = []
    for keys, part in long.groupby(index, sort=False):
        row = dict(zip(index, keys, strict=True))
        for dataset, metric in columns:
            cell = part[(part["dataset"] == dataset) & (part["metric"] == metric)]
            label = f"{dataset} {METRIC_LABELS.get(metric, metric)}"
            row[label] = (
                f"{cell['value'].iloc[0]:.2f} ({cell['retention'].iloc[0]:.1f}%)"
                if len(cell)
                else ""
            )
        mean = part[
            part.apply(lambda r: (r["dataset"], r["metric"]) in columns, axis=1)
        ]
        row["mean retention"] = mean["retention"].mean()
        out.append(row)
    table = pd.DataFrame(out)
    table["_order"] = table["group"].map(_order)
    table = table.sort_values(
        ["bits_per_vector", "_order", "mean retention"], ascending=[False, True, False]
    )
    return table.drop(columns="_order").reset_index(drop=True)


def ladder_verdicts(table: pd.DataFrame) -> list[str]:
    """Return one line per ladder step: its mean retention against the best baseline at equal bits."""
    lines = []
    for row in table[table["group"] == "ladder"].itertuples(index=False):
        bits = row.bits_per_vector
        same = table[
            (table["bits_per_vector"] == bits) & (table["group"] == "baseline")
        ]
        mine = row[list(table.columns).index("mean retention")]
        if same.empty:
            lines.append(f"- `{row.name}` ({bits} bits): no baseline at equal bits.")
            continue
        best = same.iloc[same["mean retention"].argmax()]
        verdict = "beats" if mine > best["mean retention"] else "does not beat"
        lines.append(
            f"- `{row.name}` ({bits} bits): mean retention {mine:.1f}% {verdict} the best "
            f"baseline at equal bits, `{best['name']}` at {best['mean retention']:.1f}%."
        )
    return lines


# Sweep methods in the order of the study's argument: no training, linear, trained.
METHOD_ORDER = ("truncate", "pca", "whitened_pca", "adaptor")


def _method_rank(method: str) -> tuple[int, str]:
    if method in METHOD_ORDER:
        return (METHOD_ORDER.index(method), method)
    return (len(METHOD_ORDER), method)


def _dataset_rank(dataset: str) -> tuple[int, str]:
    order = list(dict.fromkeys(d for d, _ in COLUMNS))
    return (order.index(dataset) if dataset in order else len(order), dataset)


def sweep_rows(sweeps: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Return one row per (method, dim, dataset) with the main score and retention."""
    rows = []
    ordered = sorted(sweeps, key=lambda r: _method_rank(str(r["method"])))
    for record in ordered:
        for dataset, by_dim in record["datasets"].items():
            for dim, values in by_dim.items():
                rows.append(
                    {
                        "method": record["method"],
                        "dim": int(dim),
                        "compression_ratio": values["compression_ratio"],
                        "dataset": dataset,
                        "score": values["score"],
                        "retention": values["retention"],
                    }
                )
    columns = ["method", "dim", "compression_ratio", "dataset", "score", "retention"]
    return pd.DataFrame(rows, columns=columns)


def sweep_table(long: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Return methods x compression ratios for one dataset, cells "score (retention %)"."""
    part = long[long["dataset"] == dataset].sort_values(
        "dim", ascending=False, kind="stable"
    )
    part = part.assign(
        ratio=[
            f"{r:.3g}x ({d} dims)"
            for r, d in zip(part["compression_ratio"], part["dim"], strict=True)
        ],
        cell=[
            f"{s:.2f} ({r:.1f}%)"
            for s, r in zip(part["score"], part["retention"], strict=True)
        ],
    )
    wide = part.pivot_table(
        index="method", columns="ratio", values="cell", aggfunc="first", sort=False
    )
    wide.columns.name = None
    return wide.reset_index()


def markdown_table(table: pd.DataFrame, floats: Mapping[str, str] | None = None) -> str:
    """Render a DataFrame as a Markdown table, formatting the columns in `floats`."""
    formats = dict(floats or {})
    header = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = []
    for row in table.itertuples(index=False):
        cells = [
            format(v, formats[c]) if c in formats else str(v)
            for c, v in zip(table.columns, row, strict=True)
        ]
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *body])


def ablation_markdown(table: pd.DataFrame, encoder: str) -> str:
    """Render the ablation report page."""
    shown = table.assign(
        compression_ratio=[f"{r:.3g}x" for r in table["compression_ratio"]],
        model_bytes=[f"{b / 1024:.1f} KiB" for b in table["model_bytes"]],
    )
    lines = [
        "# Ablations and equal-bits baselines",
        "",
        "Generated by `stages/report.py` from `metrics/evaluate/`, `metrics/compress/`; "
        "do not edit by hand.",
        f"Encoder: {encoder}. Each cell: score (retention against `full`). Rows are "
        "grouped by stored bits per vector; ladder steps come first in each group.",
        "`model_bytes` is side data (codebooks, weights) of the whole chain, not per vector.",
        "",
        markdown_table(shown, {"mean retention": ".1f"}),
        "",
        "## Ladder steps against plain codecs of equal bits",
        "",
        *ladder_verdicts(table),
        "",
    ]
    return "\n".join(lines)


def sweep_markdown(long: pd.DataFrame) -> str:
    """Render the MRL sweep page: one table per dataset."""
    lines = [
        "# MRL dimension sweep",
        "",
        "Generated by `stages/report.py` from `metrics/sweep/`; do not edit by hand.",
        "Each method maps the full embedding and keeps a nested prefix, re-normalized; "
        "cells: score (retention against `full`).",
        "",
    ]
    if long.empty:
        lines.append("No sweep results: `sweep.methods` in params.yaml is empty.")
    for dataset in sorted(dict.fromkeys(long["dataset"]), key=_dataset_rank):
        lines += [f"## {dataset}", "", markdown_table(sweep_table(long, dataset)), ""]
    return "\n".join(lines)
