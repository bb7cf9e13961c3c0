"""MLflow tracking and logging set-up; the only package that imports mlflow."""

from mshc.track.tracking import StageRun, setup_logging, tracking_uri

__all__ = ["StageRun", "setup_logging", "tracking_uri"]
