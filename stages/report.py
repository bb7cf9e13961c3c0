"""dvc.yaml stage `report`: rebuild reports/ from metrics/*.json only."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mshc.config import load_params, section
from mshc.io import atomic_path, write_text
from mshc.report.compression import (
    ablation_markdown,
    ablation_rows,
    ablation_table,
    load_folder,
    sweep_markdown,
    sweep_rows,
)
from mshc.report.tables import load_records, long_table, markdown
from mshc.track import StageRun, setup_logging

logger = logging.getLogger("stages.report")


def main() -> None:
    """Write the evaluation, ablation and MRL sweep tables to reports/ as Markdown and CSV."""
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
        ablations = load_folder(args.metrics / "compress")
        sweeps = load_folder(args.metrics / "sweep")
        encoder = ", ".join(sorted({r["encoder"] for r in records}))
        long = ablation_rows(records, ablations)
        write_text(
            args.out / "ablations.md", ablation_markdown(ablation_table(long), encoder)
        )
        with atomic_path(args.out / "ablations.csv") as tmp:
            long.to_csv(tmp, index=False, float_format="%.4f")
        sweep = sweep_rows(sweeps)
        write_text(args.out / "mrl_sweep.md", sweep_markdown(sweep))
        with atomic_path(args.out / "mrl_sweep.csv") as tmp:
            sweep.to_csv(tmp, index=False, float_format="%.4f")
        run.log_metrics(
            {
                "datasets": len(records),
                "ablations": len(ablations),
                "sweeps": len(sweeps),
            }
        )
        for name in ("evaluation", "ablations", "mrl_sweep"):
            run.log_artifact(args.out / f"{name}.md")
            run.log_artifact(args.out / f"{name}.csv")
    logger.info(
        "wrote %s/: %d datasets, %d ablations, %d sweep methods",
        args.out,
        len(records),
        len(ablations),
        len(sweeps),
    )


if __name__ == "__main__":
    main()
