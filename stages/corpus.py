"""dvc.yaml stage `corpus`: collect the sentences every codec is fitted on."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mshc.compress.params import CorpusParams
from mshc.compress.pipeline import run_corpus
from mshc.config import as_dict, load_params
from mshc.io import write_json
from mshc.track import StageRun, setup_logging

logger = logging.getLogger("stages.corpus")


def main() -> None:
    """Write data/compressed/full/ from the corpus section of params.yaml."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    args = parser.parse_args()
    setup_logging()

    params = load_params(args.params)
    settings = CorpusParams.from_params(params)
    with StageRun(
        "corpus", {"corpus": as_dict(settings)}, Path("runs/corpus.json")
    ) as run:
        record = run_corpus(params)
        write_json(Path("metrics/corpus.json"), record)
        run.log_metrics(record)
    logger.info(
        "corpus: %d texts of %d dims, %d scored pairs",
        record["texts"],
        record["dim"],
        record["pairs"],
    )


if __name__ == "__main__":
    main()
