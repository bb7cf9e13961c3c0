"""Compare the encode throughput of mshc's codecs with the library calls they wrap.

Each codec config is built with `build_codec`, fitted on real sentence embeddings
(`data/embeddings/<dataset>/embeddings.npy`, rows L2-normalized), and then timed on
the same vectors. The raw contender calls the library directly on the same fitted
object: `ProductQuantizer.compute_codes` for pq, `IndexPreTransform.sa_encode` for
opq and rabitq, and sentence-transformers' `quantize_embeddings` for int8 and
binary. Torch codecs (mrl, vq, sae) have no raw call here, so only mshc is timed
and the raw columns show n/a. A kind whose module is not in the repository yet is
skipped with a note.

Each contender runs one untimed pass, and then `--repeats` timed passes that
alternate between mshc and raw. The table shows the best pass. The goal is that
mshc keeps at least 90 % of the raw call's throughput (ratio mshc/raw >= 0.9), and
that the codes are identical (max abs diff 0). The script asserts neither, because
it is a benchmark.

Run from the repository root with the project's virtualenv:

    python benchmarks/codec_throughput.py --dataset korsts --repeats 5
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, cast

import numpy as np

from mshc.compress import CODECS, build_codec
from mshc.compress.base import Codec

REPO_ROOT = Path(__file__).resolve().parents[1]
RATIO_GOAL = 0.9
# Flags a contender whose slowest timed pass took this much longer than its
# fastest. The threshold is a judgment call for a shared machine.
NOISY_SPREAD = 1.25

DEFAULT_CONFIGS: list[dict[str, Any]] = [
    {"kind": "pq", "m": 16, "nbits": 8},
    {"kind": "opq", "m": 16, "nbits": 8},
    {"kind": "rabitq"},
    {"kind": "int8"},
    {"kind": "binary"},
    # Training length does not change encode cost, so the torch codecs train briefly.
    {"kind": "mrl", "method": "pca", "dim": 64},
    {"kind": "vq", "epochs": 1},
    {"kind": "sae", "epochs": 1},
]

EncodeFunction = Callable[[np.ndarray], np.ndarray]


@dataclass
class Timing:
    """Seconds of each timed pass of one contender over `count` vectors."""

    count: int
    seconds: list[float]

    @property
    def best_throughput(self) -> float:
        """Vectors per second of the fastest pass."""
        return self.count / min(self.seconds)

    @property
    def spread(self) -> float:
        """Slowest pass time divided by the fastest; near 1 on a quiet machine."""
        return max(self.seconds) / min(self.seconds)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; `argv` is None to read `sys.argv`."""
    parser = argparse.ArgumentParser(
        description=(
            "Time each codec's encode against the raw library call on the same "
            "fitted object and vectors (goal: ratio mshc/raw >= 0.9, identical codes)."
        ),
    )

    parser.add_argument(
        "--dataset",
        default="korsts",
        help="folder under data/embeddings/ with embeddings.npy (default: korsts)",
    )

    parser.add_argument(
        "--rows",
        type=int,
        metavar="N",
        help="use the first N embeddings for fitting and timing (default: all)",
    )

    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed passes per contender after one warm-up pass; the fastest is "
        "reported (default: 5)",
    )

    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="faiss OpenMP, torch and BLAS threads for fitting and for both "
        "contenders (default: 1)",
    )

    parser.add_argument(
        "--configs",
        type=json.loads,
        metavar="JSON",
        help='JSON list of codec configs, such as [{"kind": "pq", "m": 32}] '
        "(default: pq, opq, rabitq, int8, binary, mrl, vq and sae configs)",
    )

    parser.add_argument(
        "--seed", type=int, default=0, help="seed of every codec (default: 0)"
    )

    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats={args.repeats} must be at least 1")
    if args.threads < 1:
        parser.error(f"--threads={args.threads} must be at least 1")
    if args.rows is not None and args.rows < 1:
        parser.error(f"--rows={args.rows} must be at least 1")
    if args.configs is not None and not isinstance(args.configs, list):
        parser.error("--configs must be a JSON list of codec configs")
    return args


def package_version(name: str) -> str:
    """Return the installed version of distribution `name`, or `not installed`."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages, which show load that skews timings."""
    try:
        return " ".join(f"{load:.2f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


def machine_facts(threads: int) -> list[tuple[str, str]]:
    """Return the hardware and software facts that the numbers depend on."""
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        ("cpu", cpu),
        ("cores", str(os.cpu_count())),
        ("threads", str(threads)),
        ("load average", load_average()),
        ("python", platform.python_version()),
        ("numpy", package_version("numpy")),
        ("faiss", package_version("faiss-cpu")),
        ("torch", package_version("torch")),
        ("sentence-transformers", package_version("sentence-transformers")),
    ]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print rows as columns: the first left-aligned, the others right-aligned."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(pair) for pair in zip(widths, map(len, row), strict=True)]

    def format_row(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        pairs = zip(cells[1:], widths[1:], strict=True)
        return "  ".join([first, *(cell.rjust(width) for cell, width in pairs)])

    print(format_row(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(format_row(row))


def set_threads(threads: int) -> None:
    """Limit faiss, torch and BLAS to `threads` threads for the rest of the process."""
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(threads)
    torch.set_num_threads(threads)
    threadpool_limits(threads)


def load_vectors(dataset: str, rows: int | None) -> np.ndarray:
    """Load the first `rows` embeddings of `dataset` as L2-normalized float32."""
    path = REPO_ROOT / "data" / "embeddings" / dataset / "embeddings.npy"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; run `dvc repro encode@{dataset}` first"
        )
    x = np.load(path, mmap_mode="r")
    x = np.array(x if rows is None else x[:rows], dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def config_label(config: dict[str, Any]) -> str:
    """Return a config as `kind k=v ...` for the table."""
    params = " ".join(f"{k}={v}" for k, v in config.items() if k != "kind")
    return f"{config.get('kind')} {params}".strip()


def raw_encoder(codec: Codec) -> EncodeFunction | None:
    """Return the bare library call that `codec.encode` wraps, or None for torch codecs."""
    # The attributes below belong to the faiss and scalar codec classes.
    fitted: Any = codec
    if codec.kind == "pq":
        return cast(EncodeFunction, fitted.pq.compute_codes)
    if codec.kind in ("opq", "rabitq"):
        return cast(EncodeFunction, fitted.index.sa_encode)
    if codec.kind not in ("int8", "binary"):
        return None

    from sentence_transformers import quantize_embeddings

    if codec.kind == "int8":
        call = partial(quantize_embeddings, precision="int8", ranges=fitted.ranges)
    else:
        call = partial(quantize_embeddings, precision="ubinary")
    return cast(EncodeFunction, call)


def time_interleaved(
    contenders: dict[str, EncodeFunction], x: np.ndarray, repeats: int
) -> tuple[dict[str, Timing], dict[str, np.ndarray]]:
    """Time each contender on `x`, alternating between them on each repeat.

    Returns:
        The timings by name, and each contender's codes from its warm-up pass.
    """
    outputs = {name: encode(x) for name, encode in contenders.items()}
    timings = {name: Timing(len(x), []) for name in contenders}
    for _ in range(repeats):
        for name, encode in contenders.items():
            gc.collect()
            start = time.perf_counter()
            encode(x)
            timings[name].seconds.append(time.perf_counter() - start)
    return timings, outputs


def max_abs_difference(first: np.ndarray, second: np.ndarray) -> str:
    """Return the largest element-wise absolute difference of two code arrays."""
    if first.shape != second.shape or first.dtype != second.dtype:
        return f"{first.dtype}{first.shape} vs {second.dtype}{second.shape}"
    if first.size == 0:
        return "0"
    difference = np.abs(first.astype(np.float64) - second.astype(np.float64))
    return f"{difference.max():.3g}"


def goal_verdict(ratio: float, timings: Sequence[Timing]) -> str:
    """Return `ok` or `below` for the ratio, with `noisy, rerun` for uneven passes."""
    verdict = "ok" if ratio >= RATIO_GOAL else "below"
    if max(t.spread for t in timings) > NOISY_SPREAD:
        verdict += " (noisy, rerun)"
    return verdict


def benchmark_config(
    config: dict[str, Any], x: np.ndarray, repeats: int, seed: int
) -> list[str] | None:
    """Fit one codec, time it against its raw call, and return its table row.

    Returns None, after printing why, for a kind whose module is missing or a
    config that does not build.
    """
    label = config_label(config)
    kind = config.get("kind")
    module = CODECS.get(kind, "").split(":")[0] if isinstance(kind, str) else ""
    if not module or importlib.util.find_spec(module) is None:
        print(f"skipping {label}: module {module or '?'} for kind {kind!r} not found")
        return None
    try:
        codec = build_codec(config, "config", seed)
        codec.check(len(x), x.shape[1], "config")
    except (ValueError, TypeError) as error:
        print(f"skipping {label}: {error}")
        return None

    print(f"fitting {label} on {len(x)} x {x.shape[1]} ...", flush=True)
    start = time.perf_counter()
    codec.fit(x)
    fit_seconds = time.perf_counter() - start

    contenders: dict[str, EncodeFunction] = {"mshc": codec.encode}
    raw = raw_encoder(codec)
    if raw is not None:
        contenders["raw"] = raw
    print(f"timing {label} ...", flush=True)
    timings, outputs = time_interleaved(contenders, x, repeats)

    mshc = timings["mshc"]
    row = [
        label,
        str(codec.bits_per_vector),
        f"{fit_seconds:.1f}",
        f"{mshc.best_throughput:.0f}",
    ]
    if raw is None:
        return [*row, "n/a", "n/a", "n/a", "n/a"]
    ratio = mshc.best_throughput / timings["raw"].best_throughput
    return [
        *row,
        f"{timings['raw'].best_throughput:.0f}",
        f"{ratio:.3f}",
        goal_verdict(ratio, list(timings.values())),
        max_abs_difference(outputs["mshc"], outputs["raw"]),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark with the command-line options in `argv`."""
    args = parse_args(argv)
    set_threads(args.threads)
    started = time.perf_counter()
    print("Machine")
    print_table(["fact", "value"], machine_facts(args.threads))
    print()

    x = load_vectors(args.dataset, args.rows)
    configs = args.configs if args.configs is not None else DEFAULT_CONFIGS
    rows = []
    for config in configs:
        row = benchmark_config(config, x, args.repeats, args.seed)
        if row is not None:
            rows.append(row)

    print()
    print(
        f"Encode throughput on {len(x)} {args.dataset} vectors of {x.shape[1]} dims, "
        f"{args.threads} thread(s), best of {args.repeats} passes "
        f"(goal: mshc/raw >= {RATIO_GOAL}, max abs diff 0)"
    )
    print_table(
        [
            "codec",
            "bits",
            "fit s",
            "mshc vec/s",
            "raw vec/s",
            "mshc/raw",
            "goal",
            "max abs diff",
        ],
        rows,
    )
    print()
    print(f"total benchmark time: {time.perf_counter() - started:.0f} s")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    try:
        main()
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
