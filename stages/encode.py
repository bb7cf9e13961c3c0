"""dvc.yaml stage `encode@<dataset>`: embed every distinct text of a prepared dataset."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mshc.config import EncodeParams, as_dict, load_params
from mshc.data.prepare import load_prepared
from mshc.data.registry import get_dataset_params
from mshc.encode import Encoder
from mshc.encode.store import encode_texts, unique_texts, write_embeddings
from mshc.io import write_json
from mshc.track import StageRun, setup_logging

logger = logging.getLogger("stages.encode")


def main() -> None:
    """Encode one prepared dataset with the encoder set in params.yaml."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a key of the datasets section of params.yaml")
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    args = parser.parse_args()
    setup_logging()

    params = load_params(args.params)
    get_dataset_params(params, args.dataset)
    settings = EncodeParams.from_params(params)
    manifest, tables = load_prepared(Path("data/prepared") / args.dataset)
    encoder = Encoder(
        settings.backend,
        settings.model,
        settings.batch_size,
        settings.threads,
        settings.progress,
    )
    texts = unique_texts(manifest["task"], tables)

    with StageRun(
        f"encode@{args.dataset}",
        {"encode": as_dict(settings)},
        Path(f"runs/encode-{args.dataset}.json"),
        {"dataset": args.dataset},
    ) as run:
        embeddings, meta = encode_texts(encoder, texts)
        write_embeddings(
            Path("data/embeddings") / args.dataset, texts, embeddings, meta
        )
        write_json(Path(f"metrics/encode-{args.dataset}.json"), meta)
        run.log_metrics(meta)
    logger.info(
        "%s: %d texts -> %s in %.1f s (%.0f/s)",
        args.dataset,
        meta["count"],
        embeddings.shape,
        meta["seconds"],
        meta["vectors_per_second"],
    )


if __name__ == "__main__":
    main()
