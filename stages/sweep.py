"""dvc.yaml stage `sweep@<method>`: score one MRL method at every nested prefix size."""

from __future__ import annotations

import argparse
from pathlib import Path

from mshc.compress.pipeline import run_sweep, sweep_configs
from mshc.config import load_params, section
from mshc.io import write_json
from mshc.track import StageRun, setup_logging


def main() -> None:
    """Fit one MRL method once and write metrics/sweep/<method>.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("method", help="an entry of sweep.methods in params.yaml")
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    args = parser.parse_args()
    setup_logging()

    params = load_params(args.params)
    ablation, codec, dims = sweep_configs(params, args.method)
    stage_params = {
        "sweep": {"method": args.method, "ablation": ablation.name, "dims": dims},
        "codec": codec,
        "compress": section(params, "compress"),
    }
    with StageRun(
        f"sweep@{args.method}",
        stage_params,
        Path(f"runs/sweep-{args.method}.json"),
        {"ablation": ablation.name, "method": args.method, "group": "sweep"},
    ) as run:
        record = run_sweep(params, args.method)
        out = Path(f"metrics/sweep/{args.method}.json")
        write_json(out, record)
        run.log_metrics(
            {"fit_seconds": record["fit_seconds"], "fit_stats": record["fit_stats"]}
        )
        for dataset, by_dim in record["datasets"].items():
            for dim, row in by_dim.items():
                run.log_metrics({f"{dataset}.{dim}": row})
        run.log_artifact(out)


if __name__ == "__main__":
    main()
