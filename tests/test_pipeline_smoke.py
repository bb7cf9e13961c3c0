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


# A ladder and baselines small enough for a corpus of about 210 texts; each ladder step
# stores fewer bits than its parent (512 -> 8 -> 8 -> 4).
SMALL_ABLATIONS = {
    "mrl": {
        "parent": "full",
        "group": "ladder",
        "chain": [
            {
                "kind": "mrl",
                "method": "adaptor",
                "dim": 16,
                "dims": [32, 16],
                "hidden": 32,
                "epochs": 2,
            }
        ],
    },
    "mrl_vq": {
        "parent": "mrl",
        "group": "ladder",
        "chain": [{"kind": "vq", "groups": 4, "codebook_size": 4, "epochs": 2}],
    },
    "mrl_vq_pq": {
        "parent": "mrl_vq",
        "group": "ladder",
        "chain": [{"kind": "pq", "m": 4, "nbits": 2}],
    },
    "mrl_vq_pq_sae": {
        "parent": "mrl_vq_pq",
        "group": "ladder",
        "chain": [{"kind": "sae", "hidden": 8, "k": 1, "value_bits": 1, "epochs": 2}],
    },
    "int8": {"parent": "full", "group": "baseline", "chain": [{"kind": "int8"}]},
    "truncate32_binary": {
        "parent": "full",
        "group": "baseline",
        "chain": [{"kind": "mrl", "method": "truncate", "dim": 32}, {"kind": "binary"}],
    },
    "pq_8": {
        "parent": "full",
        "group": "baseline",
        "chain": [{"kind": "pq", "m": 4, "nbits": 2}],
    },
}


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
        f'"좋아요, 정말 {i}",5' if i % 2 else f"별로예요 {i},1" for i in range(200)
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
    params["corpus"] = {
        # The 200 custom reviews make the corpus big enough for 2-bit PQ (156).
        "sources": ["korsts:train", "my-reviews:train"],
        "pairs": "korsts:train",
        "max_texts": None,
        "seed": 0,
    }
    params["ablations"] = SMALL_ABLATIONS
    params["sweep"] = {"ablation": "mrl", "methods": ["truncate", "pca", "adaptor"]}
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
            (repo / "metrics" / "evaluate" / f"{name}.json").read_text(encoding="utf-8")
        )
        assert set(record["variants"]) == {"full", "truncate_64"}
        assert record["variants"]["full"]["retention"] == pytest.approx(100.0)
        assert record["variants"]["truncate_64"]["compression_ratio"] == pytest.approx(
            8.0
        )
    assert "my-reviews" in (repo / "reports" / "evaluation.md").read_text(
        encoding="utf-8"
    )
    bits = {}
    for name in SMALL_ABLATIONS:
        record = json.loads(
            (repo / "metrics" / "compress" / f"{name}.json").read_text(encoding="utf-8")
        )
        assert set(record["datasets"]) == set(datasets)
        bits[name] = record["bits_per_vector"]
    assert bits == {
        "mrl": 512,
        "mrl_vq": 8,
        "mrl_vq_pq": 8,
        "mrl_vq_pq_sae": 4,
        "int8": 4096,
        "truncate32_binary": 32,
        "pq_8": 8,
    }
    ablations = (repo / "reports" / "ablations.md").read_text(encoding="utf-8")
    assert "| mrl_vq_pq_sae | ladder |" in ablations
    sweep = json.loads(
        (repo / "metrics" / "sweep" / "adaptor.json").read_text(encoding="utf-8")
    )
    assert set(sweep["datasets"]["klue-sts"]) == {"32", "16"}

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("mshc")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    stages = sorted(r.data.tags["dvc_stage"] for r in runs)
    expected = sorted(
        [
            "fetch",
            "report",
            "corpus",
            *(f"{s}@{n}" for s in ("prepare", "encode", "evaluate") for n in datasets),
            *(f"compress@{n}" for n in SMALL_ABLATIONS),
            *(f"sweep@{m}" for m in ("truncate", "pca", "adaptor")),
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

    # A change to one codec's params reruns only its ablation and the report.
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["ablations"]["mrl_vq_pq_sae"]["chain"][0]["epochs"] = 3
    (repo / "params.yaml").write_text(
        yaml.safe_dump(params, allow_unicode=True), encoding="utf-8"
    )
    third = _dvc(repo, "repro", env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    ran = sorted(
        line.split("'")[1]
        for line in third.stdout.splitlines()
        if line.startswith("Running stage")
    )
    assert ran == ["compress@mrl_vq_pq_sae", "report"]
