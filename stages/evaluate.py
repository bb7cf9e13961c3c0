"""dvc.yaml stage `evaluate@<dataset>`: score the full embeddings and the truncation baseline."""

from __future__ import annotations

import argparse
from pathlib import Path

from mshc.config import EvaluateParams, as_dict, load_params
from mshc.data.prepare import load_prepared
from mshc.data.registry import get_dataset_params
from mshc.encode.store import load_embeddings
from mshc.evaluate.runner import evaluate_dataset
from mshc.io import write_json
from mshc.track import StageRun, setup_logging


def main() -> None:
    """Evaluate one dataset with its task's protocols and write metrics/evaluate/<dataset>.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a key of the datasets section of params.yaml")
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    args = parser.parse_args()
    setup_logging()

    params = load_params(args.params)
    get_dataset_params(params, args.dataset)
    settings = EvaluateParams.from_params(params)
    manifest, tables = load_prepared(Path("data/prepared") / args.dataset)
    texts, embeddings, meta = load_embeddings(Path("data/embeddings") / args.dataset)

    stage = f"evaluate@{args.dataset}"
    tags = {"dataset": args.dataset, "encoder": meta["encoder"], "ablation": "baseline"}
    with StageRun(
        stage,
        {"evaluate": as_dict(settings), "encoder": meta["encoder"]},
        Path(f"runs/evaluate-{args.dataset}.json"),
        tags,
    ) as run:
        record = evaluate_dataset(
            manifest, tables, texts, embeddings, meta["encoder"], settings
        )
        out = Path(f"metrics/evaluate/{args.dataset}.json")
        write_json(out, record)
        run.log_metrics(record["variants"])
        run.log_artifact(out)


if __name__ == "__main__":
    main()
