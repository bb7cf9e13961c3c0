from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from mshc.track.tracking import (
    EXPERIMENT,
    StageRun,
    flatten,
    numeric_metrics,
    tracking_uri,
)


@pytest.fixture
def tracked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def _runs(uri: str) -> list[mlflow.entities.Run]:
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id])


def test_run_logs_params_metrics_and_id(tracked: str, tmp_path: Path) -> None:
    run_file = tmp_path / "runs" / "evaluate-x.json"
    with StageRun(
        "evaluate@x", {"evaluate": {"seed": 0}}, run_file, {"dataset": "x"}
    ) as run:
        run.log_metrics({"full": {"score": 75.5, "dim": 512}, "name": "text"})
    (found,) = _runs(tracked)
    assert found.info.status == "FINISHED"
    assert found.data.tags["dvc_stage"] == "evaluate@x"
    assert found.data.tags["dataset"] == "x"
    assert found.data.params["evaluate.seed"] == "0"
    assert found.data.metrics["full.score"] == pytest.approx(75.5)
    assert "name" not in found.data.metrics
    assert json.loads(run_file.read_text())["run_id"] == found.info.run_id


def test_failed_stage_ends_run_failed(tracked: str, tmp_path: Path) -> None:
    run_file = tmp_path / "runs" / "x.json"
    with pytest.raises(ValueError, match="boom"), StageRun("prepare@x", {}, run_file):
        raise ValueError("boom")
    (found,) = _runs(tracked)
    assert found.info.status == "FAILED"
    assert not run_file.exists()


def test_interrupted_stage_ends_run_killed(tracked: str, tmp_path: Path) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        StageRun("encode@x", {}, tmp_path / "r.json"),
    ):
        raise KeyboardInterrupt
    (found,) = _runs(tracked)
    assert found.info.status == "KILLED"


def test_default_uri_is_absolute_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(tmp_path) == f"sqlite:///{tmp_path}/mlflow.db"


def test_env_overrides_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri(Path("/repo")) == "http://127.0.0.1:5000"


def test_flatten_and_numeric_metrics() -> None:
    record = {"a": {"b": 1, "c": {"d": 2.5}}, "flag": True, "name": "x"}
    assert flatten(record) == {"a.b": 1, "a.c.d": 2.5, "flag": True, "name": "x"}
    assert numeric_metrics(record) == {"a.b": 1.0, "a.c.d": 2.5}


def test_default_store_keeps_artifacts_in_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    (root / "stages").mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    monkeypatch.chdir(root / "stages")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    artifact = root / "table.md"
    artifact.write_text("| a |\n", encoding="utf-8")
    with StageRun("report", {}, root / "runs" / "report.json") as run:
        run.log_artifact(artifact)
    stored = list((root / "mlartifacts").glob("*/artifacts/table.md"))
    assert len(stored) == 1
    assert not (root / "stages" / "mlruns").exists()
