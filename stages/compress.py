"""dvc.yaml stage `compress@<ablation>`: fit one ablation's chain, code and score every dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from mshc.compress.params import get_ablation
from mshc.compress.pipeline import run_ablation
from mshc.config import load_params, section
from mshc.io import write_json
from mshc.track import StageRun, setup_logging


def main() -> None:
    """Run one entry of the ablations section and write metrics/compress/<ablation>.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "ablation", help="a key of the ablations section of params.yaml"
    )
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    args = parser.parse_args()
    setup_logging()

    params = load_params(args.params)
    ablation = get_ablation(params, args.ablation)
    stage_params = {
        "ablation": {"parent": ablation.parent, "chain": list(ablation.chain)},
        "compress": section(params, "compress"),
    }
    tags = {
        "ablation": ablation.name,
        "group": ablation.group,
        "parent": ablation.parent,
    }
    with StageRun(
        f"compress@{ablation.name}",
        stage_params,
        Path(f"runs/compress-{ablation.name}.json"),
        tags,
    ) as run:
        record = run_ablation(params, ablation.name)
        out = Path(f"metrics/compress/{ablation.name}.json")
        write_json(out, record)
        run.log_metrics(
            {
                "bits_per_vector": record["bits_per_vector"],
                "compression_ratio": record["compression_ratio"],
                "model_bytes": record["model_bytes"],
                "fit_seconds": record["fit_seconds"],
                "fit_stats": record["fit_stats"],
                **record["datasets"],
            }
        )
        run.log_artifact(out)


if __name__ == "__main__":
    main()
