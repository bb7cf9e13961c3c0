"""The ablation table and the MRL sweep pages, from hand-written metrics records."""

from __future__ import annotations

import pandas as pd

from mshc.report.compression import (
    ablation_markdown,
    ablation_rows,
    ablation_table,
    describe_codec,
    ladder_verdicts,
    sweep_markdown,
    sweep_rows,
    sweep_table,
)


def evaluation() -> dict:
    full = {
        "dim": 512,
        "bits_per_vector": 16384,
        "compression_ratio": 1.0,
        "spearman_cosine": 80.0,
        "retention_spearman_cosine": 100.0,
    }
    trunc = {
        "dim": 64,
        "bits_per_vector": 2048,
        "compression_ratio": 8.0,
        "spearman_cosine": 72.0,
        "retention_spearman_cosine": 90.0,
    }
    return {
        "dataset": "klue-sts",
        "encoder": "usem3",
        "main_score": "spearman_cosine",
        "variants": {"full": full, "truncate_64": trunc},
    }


def ablation(name: str, group: str, bits: int, score: float, chain: list) -> dict:
    row = {"spearman_cosine": score, "retention_spearman_cosine": score / 0.8}
    return {
        "ablation": name,
        "group": group,
        "chain": chain,
        "bits_per_vector": bits,
        "compression_ratio": 16384 / bits,
        "model_bytes": 2048,
        "fit_seconds": 1.5,
        "datasets": {"klue-sts": row},
    }


def records() -> list[dict]:
    mrl = [{"kind": "mrl", "method": "adaptor", "dim": 64}]
    return [
        ablation("mrl", "ladder", 2048, 78.0, mrl),
        ablation(
            "pq_2048", "baseline", 2048, 79.0, [{"kind": "pq", "m": 256, "nbits": 8}]
        ),
        ablation(
            "mrl_vq",
            "ladder",
            256,
            70.0,
            [*mrl, {"kind": "vq", "groups": 32, "codebook_size": 256}],
        ),
    ]


def test_describe_codec() -> None:
    assert (
        describe_codec({"kind": "pq", "m": 16, "nbits": 8, "seed": 0})
        == "pq(m=16, nbits=8)"
    )
    assert describe_codec({"kind": "binary", "seed": 0}) == "binary"


def test_ablation_table_groups_by_bits() -> None:
    table = ablation_table(ablation_rows([evaluation()], records()))

    assert table["name"].tolist() == ["full", "mrl", "pq_2048", "truncate_64", "mrl_vq"]
    assert table["bits_per_vector"].tolist() == [16384, 2048, 2048, 2048, 256]
    assert table.loc[1, "klue-sts Spearman"] == "78.00 (97.5%)"
    assert (
        table.loc[4, "chain"]
        == "mrl(method=adaptor, dim=64) -> vq(groups=32, codebook_size=256)"
    )


def test_ladder_verdicts() -> None:
    table = ablation_table(ablation_rows([evaluation()], records()))
    lines = ladder_verdicts(table)

    assert lines[0] == (
        "- `mrl` (2048 bits): mean retention 97.5% does not beat the best baseline at "
        "equal bits, `pq_2048` at 98.8%."
    )
    assert lines[1] == "- `mrl_vq` (256 bits): no baseline at equal bits."


def test_ablation_markdown_has_table() -> None:
    text = ablation_markdown(
        ablation_table(ablation_rows([evaluation()], records())), "usem3"
    )

    assert "| mrl | ladder |" in text
    assert "8x" in text
    assert "2.0 KiB" in text


def sweep_record(method: str, scores: dict) -> dict:
    rows = {
        str(dim): {"compression_ratio": 512 / dim, "score": s, "retention": s / 0.8}
        for dim, s in scores.items()
    }
    return {"method": method, "datasets": {"klue-sts": rows}}


def test_sweep_table_cells() -> None:
    long = sweep_rows(
        [
            sweep_record("pca", {256: 79.0, 64: 76.0}),
            sweep_record("adaptor", {256: 80.0, 64: 78.0}),
        ]
    )
    table = sweep_table(long, "klue-sts")

    assert table["method"].tolist() == ["pca", "adaptor"]
    assert list(table.columns) == ["method", "2x (256 dims)", "8x (64 dims)"]
    assert table.loc[1, "8x (64 dims)"] == "78.00 (97.5%)"


def test_sweep_markdown_empty() -> None:
    text = sweep_markdown(sweep_rows([]))

    assert "No sweep results" in text
    assert isinstance(sweep_rows([]), pd.DataFrame)
