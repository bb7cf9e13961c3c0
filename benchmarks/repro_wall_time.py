"""Time a from-scratch `dvc repro` of the default profile in a fresh clone.

The clone has no DVC cache, so every stage runs: fetch, prepare, encode, evaluate,
corpus, every compress@ ablation, every sweep@ method and report. The script prints
the wall time of the whole run and of each stage, measured from DVC's
"Running stage" lines as they arrive.

Run from the repository root with the project's virtualenv:

    MSHC_DATA_DIR=../shared/data python benchmarks/repro_wall_time.py
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    """Clone the repository, run `dvc repro` in the clone and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="folder for the clone (default: a new temporary folder, removed after)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the clone after the run"
    )
    args = parser.parse_args()
    if not os.environ.get("MSHC_DATA_DIR"):
        print("set MSHC_DATA_DIR to the folder of upstream files, e.g. ../shared/data")
        return 2

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mshc-repro-"))
    clone = workdir / "mshc"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)

    stages: list[tuple[str, float]] = []
    start = time.perf_counter()
    with subprocess.Popen(
        [str(bin_dir / "dvc"), "repro"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Running stage '"):
                stages.append((line.split("'")[1], time.perf_counter()))
            if "ERROR" in line:
                print(line, end="")
    total = time.perf_counter() - start
    ends = [t for _, t in stages[1:]] + [start + total]

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    )
    print(f"dvc repro from scratch: exit {process.returncode}, {len(stages)} stages")
    print(f"{'stage':<34} {'seconds':>8}")
    for (name, began), ended in zip(stages, ends, strict=True):
        print(f"{name:<34} {ended - began:8.1f}")
    print(f"{'total':<34} {total:8.1f}  ({total / 60:.1f} min)")
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
