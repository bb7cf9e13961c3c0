"""Run the whole DVC pipeline on tiny fixture data with the real encoder, DVC and MLflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mshc.data.fetch import sha256_of

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _dvc(
    repo: Path, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    dvc = Path(sys.executable).with_name("dvc")
    return subprocess.run(
        [str(dvc), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _make_repo(tmp_path: Path, upstream: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO / name, repo / name)
    for folder in ("stages", "mshc"):
        shutil.copytree(
            REPO / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    custom = repo / "data" / "custom"
    custom.mkdir(parents=True)
    rows = ["review,stars"] + [
        f'"좋아요, 정말 {i}",5' if i % 2 else f"별로예요 {i},1" for i in range(24)
    ]
    (custom / "train.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (custom / "test.csv").write_text("\n".join(rows[:13]) + "\n", encoding="utf-8")

    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    for source, files in params["fetch"]["sources"].items():
        for name, entry in files.items():
            path = upstream / source / name
            entry["sha256"] = sha256_of(path) if path.is_file() else None
    params["datasets"] = {
        "klue-sts": {},
        "korsts": {"train_size": 10},
        "klue-nli": {},
        "nsmc": {"train_size": 24, "test_size": 12},
        "my-reviews": {
            "task": "classification",
            "format": "csv",
            "train": "data/custom/train.csv",
            "test": "data/custom/test.csv",
            "columns": {"text": "review", "label": "stars"},
        },
    }
    params["evaluate"]["truncate_dims"] = [64]
    (repo / "params.yaml").write_text(
        yaml.safe_dump(params, allow_unicode=True), encoding="utf-8"
    )
    return repo


def test_pipeline_end_to_end(tmp_path: Path, upstream_dir: Path) -> None:
    repo = _make_repo(tmp_path, upstream_dir)
    env = {**os.environ, "MSHC_DATA_DIR": str(upstream_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    assert _dvc(repo, "init", "--no-scm", "-q", env=env).returncode == 0
    _dvc(repo, "config", "core.analytics", "false", env=env)

    first = _dvc(repo, "repro", env=env)
    assert first.returncode == 0, first.stdout + first.stderr

    datasets = ("klue-sts", "korsts", "klue-nli", "nsmc", "my-reviews")
    for name in datasets:
        record = json.loads(
            (repo / "metrics" / f"evaluate-{name}.json").read_text(encoding="utf-8")
        )
        assert set(record["variants"]) == {"full", "truncate_64"}
        assert record["variants"]["full"]["retention"] == pytest.approx(100.0)
        assert record["variants"]["truncate_64"]["compression_ratio"] == pytest.approx(
            8.0
        )
    assert "my-reviews" in (repo / "reports" / "evaluation.md").read_text(
        encoding="utf-8"
    )

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("mshc")
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    stages = sorted(r.data.tags["dvc_stage"] for r in runs)
    expected = sorted(
        [
            "fetch",
            "report",
            *(f"{s}@{n}" for s in ("prepare", "encode", "evaluate") for n in datasets),
        ]
    )
    assert stages == expected
    assert {r.info.status for r in runs} == {"FINISHED"}
    run_file = json.loads(
        (repo / "runs" / "evaluate-nsmc.json").read_text(encoding="utf-8")
    )
    assert run_file["run_id"] in {r.info.run_id for r in runs}

    second = _dvc(repo, "repro", env=env)
    assert second.returncode == 0
    assert "Running stage" not in second.stdout
