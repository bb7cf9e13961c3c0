"""dvc.yaml stage `fetch`: bring the upstream files of every source into data/raw/.

Files are copied from $MSHC_DATA_DIR when it is set, else downloaded from the URLs
in params.yaml. Either way, each SHA-256 is checked when params give one.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mshc.config import load_params
from mshc.data.fetch import FetchParams, data_dir_from_env, fetch
from mshc.io import write_json
from mshc.track import StageRun, setup_logging

logger = logging.getLogger("stages.fetch")


def main() -> None:
    """Fetch (copy from MSHC_DATA_DIR, or download) and verify every upstream file."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="params file"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/raw"), help="folder for the files"
    )
    parser.add_argument(
        "--metrics",
        type=Path,
        default=Path("metrics/fetch.json"),
        help="file hashes and sizes",
    )
    parser.add_argument(
        "--run-file",
        type=Path,
        default=Path("runs/fetch.json"),
        help="records the MLflow run id",
    )
    args = parser.parse_args()
    setup_logging()

    params = FetchParams.from_params(load_params(args.params))
    data_dir = data_dir_from_env()

    with StageRun(
        "fetch",
        {"fetch": {"timeout_s": params.timeout_s, "files": len(params.sources)}},
        args.run_file,
    ) as run:
        report = fetch(params, args.out, data_dir)
        record = {
            "mode": report.mode,
            "files": report.files,
            "file_count": len(report.files),
            "missing_optional": report.missing_optional,
            "missing_optional_count": len(report.missing_optional),
        }
        write_json(args.metrics, record)
        run.log_metrics(
            {
                "file_count": len(report.files),
                "missing_optional_count": len(report.missing_optional),
            }
        )
    logger.info(
        "fetched %d files (%s); optional files missing: %s",
        len(report.files),
        report.mode,
        report.missing_optional or "none",
    )


if __name__ == "__main__":
    main()
