"""dvc.yaml stage `prepare@<dataset>`: parse upstream files into canonical parquet tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from mshc.config import as_dict, load_params
from mshc.data.prepare import PrepareParams, prepare
from mshc.data.registry import get_dataset_params
from mshc.io import repo_root, write_json, write_parquet
from mshc.track import StageRun, setup_logging


def main() -> None:
    """Prepare one dataset named in the datasets section of params.yaml."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a key of the datasets section of params.yaml")
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    parser.add_argument(
        "--raw", type=Path, default=Path("data/raw"), help="folder written by fetch"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="default: data/prepared/<dataset>"
    )
    args = parser.parse_args()
    setup_logging()

    params = load_params(args.params)
    dataset = get_dataset_params(params, args.dataset)
    settings = PrepareParams.from_params(params)
    out = args.out or Path("data/prepared") / dataset.name

    stage_params = {"prepare": as_dict(settings), "dataset": as_dict(dataset)}
    with StageRun(
        f"prepare@{dataset.name}",
        stage_params,
        Path(f"runs/prepare-{dataset.name}.json"),
        {"dataset": dataset.name},
    ) as run:
        result = prepare(dataset, settings, args.raw, repo_root())
        for split, table in result.tables.items():
            write_parquet(out / f"{split}.parquet", table)
        write_json(
            out / "dataset.json", {**result.report, "splits": sorted(result.tables)}
        )
        write_json(Path(f"metrics/prepare-{dataset.name}.json"), result.report)
        run.log_metrics(
            {"bad_rows": result.report["bad_rows"], "splits": result.report["splits"]}
        )


if __name__ == "__main__":
    main()
