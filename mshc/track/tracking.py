"""One MLflow run per stage execution, mirrored from the stage's metrics file.

DVC metrics files are the source of truth. A stage that DVC skips or restores
makes no MLflow run, so each stage writes the id of the run that made its outputs
into a small output file beside its metrics.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from mshc.config import params_hash
from mshc.io import repo_root, write_json

logger = logging.getLogger(__name__)

# MLflow 3 sends usage telemetry unless it is disabled, and mshc runs offline by default.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

EXPERIMENT = "mshc"
TRACKING_ENV = "MLFLOW_TRACKING_URI"


def setup_logging(verbose: bool = False) -> None:
    """Send INFO lines (DEBUG with `verbose`) from mshc to stderr, once per process."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in (
        "mteb",
        "datasets",
        "httpx",
        "urllib3",
        "alembic",
        "mlflow",
        "sentence_transformers",
        "faiss",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def tracking_uri(root: Path | None = None) -> str:
    """Return `MLFLOW_TRACKING_URI`, else an SQLite file at the repository root.

    The path is absolute, so runs from DVC's temporary experiment copies land in
    the same database as runs from the workspace.
    """
    if os.environ.get(TRACKING_ENV):
        return os.environ[TRACKING_ENV]
    return f"sqlite:///{(root or repo_root()) / 'mlflow.db'}"


def git_commit(root: Path) -> str:
    """Return the commit checked out at `root`, or "unknown" outside git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def git_dirty(root: Path) -> bool:
    """Return whether tracked files at `root` differ from the commit (False outside git)."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return False
    return bool(out.stdout.strip())


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to dotted keys."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def numeric_metrics(data: Mapping[str, Any]) -> dict[str, float]:
    """Return the numeric leaves of a metrics record under dotted keys."""
    return {
        k: float(v)
        for k, v in flatten(data).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _ensure_experiment(root: Path, server_chosen: bool) -> None:
    """Select the `mshc` experiment, creating it on first use.

    With the default SQLite store, MLflow would put artefacts in `./mlruns` below
    the working directory, which for a queued DVC experiment is a temporary copy.
    The experiment is therefore created with its artefacts under the repository.
    A store given by `MLFLOW_TRACKING_URI` (`server_chosen`) keeps its own location.
    """
    import mlflow

    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        location = None if server_chosen else (root / "mlartifacts").as_uri()
        try:
            mlflow.create_experiment(EXPERIMENT, artifact_location=location)
        except mlflow.exceptions.MlflowException:
            # Another stage, run in parallel by `dvc queue start -j N`, created it first.
            logger.debug("experiment %s was created by another process", EXPERIMENT)
    mlflow.set_experiment(EXPERIMENT)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class StageRun:
    """Context manager around one MLflow run for one DVC stage execution.

    On exit it writes `run_file` with the run id. A stage that raises ends its run
    as FAILED, and one interrupted with Ctrl-C ends it as KILLED, so no run stays
    RUNNING.

    Args:
        stage: the DVC stage name, such as `evaluate@klue-sts`.
        params: the resolved params the stage used; logged flattened.
        run_file: output file that records the run id.
        tags: extra tags, such as the dataset.
    """

    def __init__(
        self,
        stage: str,
        params: Mapping[str, Any],
        run_file: Path,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.stage = stage
        self.params = dict(params)
        self.run_file = run_file
        self.tags = dict(tags or {})
        self.root = repo_root()
        self.run: Any = None

    def __enter__(self) -> StageRun:
        import mlflow

        # DVC and CI runners stop a stage with SIGTERM; turning it into
        # KeyboardInterrupt lets __exit__ close the run as KILLED.
        signal.signal(signal.SIGTERM, _raise_interrupt)

        # Read before set_tracking_uri, which exports MLFLOW_TRACKING_URI itself.
        server_chosen = bool(os.environ.get(TRACKING_ENV))
        uri = tracking_uri(self.root)
        mlflow.set_tracking_uri(uri)
        _ensure_experiment(self.root, server_chosen)
        tags = {
            "dvc_stage": self.stage,
            "git_commit": git_commit(self.root),
            "git_dirty": str(git_dirty(self.root)).lower(),
            **self.tags,
        }
        name = f"{self.stage}-{params_hash(self.params)}"
        self.run = mlflow.start_run(run_name=name, tags=tags)
        mlflow.log_params({k: str(v)[:6000] for k, v in flatten(self.params).items()})
        logger.info("MLflow run %s (%s) in %s", self.run.info.run_id, name, uri)
        return self

    def log_metrics(self, record: Mapping[str, Any]) -> None:
        """Log every numeric value of `record` under dotted keys."""
        import mlflow

        mlflow.log_metrics(numeric_metrics(record))

    def log_artifact(self, path: Path) -> None:
        """Attach a file to the run."""
        import mlflow

        mlflow.log_artifact(str(path))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        import mlflow

        if kind is None:
            status = "FINISHED"
        elif issubclass(kind, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        mlflow.end_run(status=status)
        if kind is None:
            write_json(
                self.run_file,
                {
                    "stage": self.stage,
                    "run_id": self.run.info.run_id,
                    "experiment": EXPERIMENT,
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
            )
