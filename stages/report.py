"""dvc.yaml stage `report`: rebuild reports/ from metrics/*.json only."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mshc.config import load_params, section
from mshc.io import atomic_path, write_text
from mshc.report.tables import load_records, long_table, markdown
from mshc.track import StageRun, setup_logging

logger = logging.getLogger("stages.report")


def main() -> None:
    """Write reports/evaluation.md and reports/evaluation.csv."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    parser.add_argument(
        "--metrics", type=Path, default=Path("metrics"), help="folder of metrics files"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="folder for the report files"
    )
    args = parser.parse_args()
    setup_logging()

    settings = section(load_params(args.params), "report")
    title = str(settings.get("title", "mshc evaluation"))
    records = load_records(args.metrics)
    with StageRun("report", {"report": settings}, Path("runs/report.json")) as run:
        write_text(args.out / "evaluation.md", markdown(records, title))
        with atomic_path(args.out / "evaluation.csv") as tmp:
            long_table(records).to_csv(tmp, index=False, float_format="%.4f")
        run.log_metrics({"datasets": len(records)})
        run.log_artifact(args.out / "evaluation.md")
        run.log_artifact(args.out / "evaluation.csv")
    logger.info(
        "wrote %s/evaluation.md and evaluation.csv from %d datasets",
        args.out,
        len(records),
    )


if __name__ == "__main__":
    main()
