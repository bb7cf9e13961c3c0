"""The work of the `corpus`, `compress@<ablation>` and `sweep@<method>` stages.

Each function checks every input it needs before the first fit, so a bad param or a
missing upstream output fails in seconds with the param or the command to run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mshc.compress import build_chain, build_codec
from mshc.compress.base import FLOAT32_BITS, Chain, stored_bits
from mshc.compress.corpus import build_corpus
from mshc.compress.params import (
    FULL,
    Ablation,
    CompressParams,
    CorpusParams,
    SweepParams,
    get_ablation,
    lineage,
    load_ablations,
)
from mshc.compress.store import (
    ROOT,
    read_chain_record,
    read_corpus,
    read_dataset,
    write_model,
    write_pairs,
    write_record,
    write_vectors,
)
from mshc.config import EvaluateParams, section, unknown_name_error
from mshc.evaluate.metrics import compression_ratio
from mshc.evaluate.scorer import DatasetScorer
from mshc.io import require_file, write_npy, write_parquet

logger = logging.getLogger(__name__)


def dataset_names(params: Mapping[str, Any]) -> list[str]:
    """Return the keys of the datasets section, in params.yaml order."""
    return list(section(params, "datasets"))


def run_corpus(params: Mapping[str, Any], root: Path = ROOT) -> dict[str, Any]:
    """Write `data/compressed/full/`: the fit corpus, its pairs and the root record."""
    settings = CorpusParams.from_params(params)
    corpus = build_corpus(settings, section(params, "datasets"))
    folder = root / FULL
    import pandas as pd

    write_parquet(folder / "corpus.parquet", pd.DataFrame({"text": corpus.texts}))
    write_npy(folder / "corpus.npy", corpus.vectors)
    write_pairs(folder, corpus.pairs)
    dim = int(corpus.vectors.shape[1])
    record = {
        "ablation": FULL,
        "lineage": [],
        "chain": [],
        "dim": dim,
        "full_dim": dim,
        "bits_per_vector": FLOAT32_BITS * dim,
        "model_bytes": 0,
    }
    write_record(folder, record)
    return {
        "texts": len(corpus.texts),
        "pairs": 0 if corpus.pairs is None else len(corpus.pairs.scores),
        "dim": dim,
    }


def _stats_key(index: int, kind: str) -> str:
    return f"{index}_{kind}"


def _check_inputs(parent: str, datasets: list[str]) -> None:
    """Raise FileNotFoundError for a missing parent output or full-score record."""
    for dataset in datasets:
        require_file(
            Path("metrics/evaluate") / f"{dataset}.json",
            f"dvc repro evaluate@{dataset}",
        )
        if parent != FULL:
            require_file(
                ROOT / parent / "datasets" / f"{dataset}.npy",
                f"dvc repro compress@{parent}",
            )


def _code_row(
    chain: Chain, full_dim: int, model_bytes: int, fit_seconds: float
) -> dict[str, float]:
    bits = chain.bits_per_vector
    return {
        "dim": float(chain.codecs[-1].output_dim(chain.codecs[-1].fitted_dim)),
        "bits_per_vector": float(bits),
        "bytes_per_vector": bits / 8,
        "compression_ratio": compression_ratio(full_dim, bits),
        "model_bytes": float(model_bytes),
        "fit_seconds": fit_seconds,
    }


def _check_codes(codes: np.ndarray, chain: Chain, key: str) -> None:
    bits = chain.bits_per_vector
    if stored_bits(codes) != 8 * math.ceil(bits / 8):
        raise RuntimeError(
            f"{key}: codes take {stored_bits(codes)} bits per row but the codec "
            f"reports {bits}; this is a bug in the codec"
        )


def run_ablation(
    params: Mapping[str, Any], name: str, root: Path = ROOT
) -> dict[str, Any]:
    """Fit ablation `name` on its parent's corpus, code every dataset and score it.

    Returns:
        The metrics record: the chain, its exact cost, fit diagnostics and one row
        per dataset with every score and its retention against `full`.
    """
    ablation = get_ablation(params, name)
    ablations = load_ablations(params)
    settings = CompressParams.from_params(params)
    evaluate = EvaluateParams.from_params(params)
    datasets = dataset_names(params)
    chain = build_chain(list(ablation.chain), f"{ablation.key}.chain", settings.seed)
    parent = read_chain_record(ablation.parent, root)
    corpus, pairs = read_corpus(ablation.parent, root)
    chain.check(corpus.shape[0], corpus.shape[1], int(parent["bits_per_vector"]))
    _check_inputs(ablation.parent, datasets)

    logger.info(
        "%s: fitting %s on %d vectors of %d dims from %s",
        name,
        " -> ".join(c.kind for c in chain.codecs),
        corpus.shape[0],
        corpus.shape[1],
        ablation.parent,
    )
    start = time.perf_counter()
    decoded_corpus = chain.fit(corpus, pairs)
    fit_seconds = time.perf_counter() - start
    folder = root / name
    write_npy(folder / "corpus.npy", decoded_corpus)
    write_pairs(folder, pairs)
    write_model(folder, chain)

    full_dim = int(parent["full_dim"])
    model_bytes = int(parent["model_bytes"]) + chain.model_bytes
    cost = _code_row(chain, full_dim, model_bytes, fit_seconds)
    rows: dict[str, dict[str, float]] = {}
    for dataset in datasets:
        texts, vectors = read_dataset(ablation.parent, dataset, root)
        start = time.perf_counter()
        codes = chain.encode(vectors)
        encode_seconds = time.perf_counter() - start
        _check_codes(codes, chain, ablation.key)
        decoded = chain.decode(codes)
        write_vectors(folder, dataset, decoded, codes)
        row = DatasetScorer(dataset, texts, evaluate).score(decoded, name)
        row.update(cost)
        row["encode_vectors_per_second"] = len(texts) / max(encode_seconds, 1e-9)
        rows[dataset] = row
        logger.info(
            "%s/%s: score %.2f, retention %.1f%%",
            name,
            dataset,
            row["score"],
            row["retention"],
        )

    record = {
        "ablation": name,
        "parent": ablation.parent,
        "group": ablation.group,
        "lineage": [a.name for a in lineage(ablations, name)],
        "chain": [*parent["chain"], *chain.config()],
        "full_dim": full_dim,
        **cost,
        "fit_stats": {
            _stats_key(i, c.kind): dict(c.fit_stats) for i, c in enumerate(chain.codecs)
        },
        "datasets": rows,
    }
    write_record(
        folder,
        {
            "ablation": name,
            "lineage": record["lineage"],
            "chain": record["chain"],
            "dim": int(cost["dim"]),
            "full_dim": full_dim,
            "bits_per_vector": chain.bits_per_vector,
            "model_bytes": model_bytes,
        },
    )
    return record


def sweep_configs(
    params: Mapping[str, Any], method: str
) -> tuple[Ablation, dict[str, Any], list[int]]:
    """Return the swept ablation, its `mrl` entry with `method` set, and the sizes.

    Raises:
        ValueError: the method is not listed, or the ablation's first codec is not
            an `mrl` codec.
    """
    sweep = SweepParams.from_params(params)
    if method not in sweep.methods:
        raise unknown_name_error("sweep method", method, "sweep.methods", sweep.methods)
    ablation = get_ablation(params, sweep.ablation)
    if ablation.parent != FULL:
        raise ValueError(
            f"sweep.ablation={sweep.ablation!r} has parent {ablation.parent!r}, but "
            f"the sweep fits on the full embedding; name an ablation whose parent is "
            f"'{FULL}'"
        )
    base = dict(ablation.chain[0])
    if base.get("kind") != "mrl":
        raise ValueError(
            f"sweep.ablation={sweep.ablation!r} starts with a {base.get('kind')!r} "
            f"codec, but the sweep needs an ablation whose first codec is 'mrl'"
        )
    base["method"] = method
    codec = build_codec(base, f"{ablation.key}.chain[0]")
    dims = [int(d) for d in codec.dims]  # type: ignore[attr-defined]
    return ablation, base, dims


def run_sweep(
    params: Mapping[str, Any], method: str, root: Path = ROOT
) -> dict[str, Any]:
    """Fit the MRL method once on the corpus and score each nested prefix size."""
    ablation, base, dims = sweep_configs(params, method)
    settings = CompressParams.from_params(params)
    evaluate = EvaluateParams.from_params(params)
    datasets = dataset_names(params)
    parent = read_chain_record(ablation.parent, root)
    corpus, pairs = read_corpus(ablation.parent, root)
    _check_inputs(ablation.parent, datasets)
    key = f"{ablation.key}.chain[0]"
    fitted = build_codec({**base, "dim": max(dims)}, key, settings.seed)
    Chain([fitted], [key]).check(
        corpus.shape[0], corpus.shape[1], int(parent["bits_per_vector"])
    )

    start = time.perf_counter()
    fitted.fit(corpus, pairs)
    fit_seconds = time.perf_counter() - start
    full_dim = int(parent["full_dim"])
    inputs = {d: read_dataset(ablation.parent, d, root) for d in datasets}
    scorers = {d: DatasetScorer(d, texts, evaluate) for d, (texts, _) in inputs.items()}
    rows: dict[str, dict[str, dict[str, float]]] = {d: {} for d in datasets}
    for dim in sorted(dims, reverse=True):
        codec = fitted.with_dim(dim)  # type: ignore[attr-defined]
        chain = Chain([codec], [key])
        cost = _code_row(chain, full_dim, codec.model_bytes, fit_seconds)
        for dataset, (_, vectors) in inputs.items():
            codes = codec.encode(vectors)
            _check_codes(codes, chain, key)
            row = scorers[dataset].score(codec.decode(codes), f"sweep-{method}-{dim}")
            row.update(cost)
            rows[dataset][str(dim)] = row
            logger.info(
                "%s@%d/%s: score %.2f, retention %.1f%%",
                method,
                dim,
                dataset,
                row["score"],
                row["retention"],
            )
    return {
        "method": method,
        "ablation": ablation.name,
        "codec": {**base, "dims": dims},
        "full_dim": full_dim,
        "dims": dims,
        "fit_seconds": fit_seconds,
        "fit_stats": dict(fitted.fit_stats),
        "datasets": rows,
    }
