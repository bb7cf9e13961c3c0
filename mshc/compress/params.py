"""The `corpus`, `compress`, `ablations` and `sweep` sections of params.yaml, checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from mshc.config import (
    check_keys,
    check_positive_int,
    check_seed,
    check_type,
    section,
    unknown_name_error,
)

FULL = "full"  # the uncompressed root of every ablation
GROUPS = ("ladder", "baseline")


def parse_source(value: Any, key: str) -> tuple[str, str]:
    """Split `"<dataset>:<split>"` into its two parts.

    Raises:
        ValueError: the value has no colon or an empty part.
    """
    text = check_type(value, str, key)
    dataset, _, split = text.partition(":")
    if not dataset or not split:
        raise ValueError(
            f"{key}={text!r} must look like '<dataset>:<split>', for example "
            f"'korsts:train'"
        )
    return dataset, split


@dataclass(frozen=True)
class CorpusParams:
    """The `corpus` section: the sentences every codec is fitted on.

    Attributes:
        sources: `<dataset>:<split>` entries; the distinct texts of their text
            columns make the fit corpus.
        pairs: an STS `<dataset>:<split>` whose scored pairs feed supervised
            losses (the MRL adaptor's pair loss), or None for none. Its texts are
            added to the corpus.
        max_texts: cap on the corpus size, drawn with `seed`; None keeps all.
        seed: seed of that draw.
    """

    sources: tuple[tuple[str, str], ...]
    pairs: tuple[str, str] | None
    max_texts: int | None
    seed: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CorpusParams:
        """Check and build the section from the parsed `params.yaml`."""
        raw = section(params, "corpus")
        check_keys(raw, cls.__dataclass_fields__, "corpus")
        sources = check_type(raw.get("sources", []), list, "corpus.sources")
        if not sources:
            raise ValueError(
                "corpus.sources is empty; list at least one '<dataset>:<split>', "
                "for example 'korsts:train'"
            )
        pairs = raw.get("pairs")
        return cls(
            sources=tuple(
                parse_source(s, f"corpus.sources[{i}]") for i, s in enumerate(sources)
            ),
            pairs=None if pairs is None else parse_source(pairs, "corpus.pairs"),
            max_texts=check_positive_int(
                raw.get("max_texts"), "corpus.max_texts", allow_none=True
            ),
            seed=check_seed(raw.get("seed", 0), "corpus.seed"),
        )


@dataclass(frozen=True)
class Ablation:
    """One entry of the `ablations` section: a chain fitted on its parent's output.

    Attributes:
        name: the entry's key, also the DVC stage `compress@<name>`.
        parent: `full` or another ablation, whose decoded vectors this chain
            fits on and encodes.
        group: `ladder` (a step of the study's chain) or `baseline` (a plain
            codec compared at equal bits).
        chain: codec entries, each `{kind: ..., <params>}`.
    """

    name: str
    parent: str
    group: str
    chain: tuple[dict[str, Any], ...]

    @property
    def key(self) -> str:
        """The params.yaml path of this entry, for messages."""
        return f"ablations.{self.name}"


def load_ablations(params: Mapping[str, Any]) -> dict[str, Ablation]:
    """Check the `ablations` section: fields, parent names and parent cycles.

    Raises:
        ValueError: a missing or unknown field, an unknown parent, or a cycle.
        TypeError: a value of the wrong type.
    """
    raw = section(params, "ablations")
    out: dict[str, Ablation] = {}
    for name, entry in raw.items():
        key = f"ablations.{name}"
        if name == FULL:
            raise ValueError(
                f"{key}: '{FULL}' is the uncompressed embedding and cannot be "
                f"redefined; rename the entry"
            )
        check_type(entry, dict, key)
        check_keys(entry, ("parent", "group", "chain"), key)
        group = check_type(entry.get("group", "baseline"), str, f"{key}.group")
        if group not in GROUPS:
            raise unknown_name_error("group", group, f"{key}.group", GROUPS)
        chain = check_type(entry.get("chain"), list, f"{key}.chain")
        if not chain:
            raise ValueError(f"{key}.chain is empty; list at least one codec")
        if "parent" not in entry:
            raise ValueError(
                f"{key} has no 'parent'; set it to '{FULL}' or to another ablation"
            )
        out[name] = Ablation(
            name=name,
            parent=check_type(entry["parent"], str, f"{key}.parent"),
            group=group,
            chain=tuple(cast(dict[str, Any], c) for c in chain),
        )
    for ablation in out.values():
        if ablation.parent != FULL and ablation.parent not in out:
            raise unknown_name_error(
                "parent", ablation.parent, f"{ablation.key}.parent", [FULL, *out]
            )
    for ablation in out.values():
        lineage(out, ablation.name)
    return out


def lineage(ablations: Mapping[str, Ablation], name: str) -> list[Ablation]:
    """Return the ablations from the root down to `name`, inclusive.

    Raises:
        ValueError: the parents form a cycle.
    """
    path: list[Ablation] = []
    current = name
    while current != FULL:
        ablation = ablations[current]
        if ablation in path:
            names = " -> ".join(a.name for a in reversed([*path, ablation]))
            raise ValueError(
                f"ablations form a parent cycle ({names}); point one of them at "
                f"'{FULL}'"
            )
        path.append(ablation)
        current = ablation.parent
    return list(reversed(path))


def get_ablation(params: Mapping[str, Any], name: str) -> Ablation:
    """Return one checked ablation, with the closest name in the error when unknown."""
    ablations = load_ablations(params)
    if name not in ablations:
        raise unknown_name_error("ablation", name, "ablations", ablations)
    return ablations[name]


@dataclass(frozen=True)
class CompressParams:
    """The `compress` section.

    Attributes:
        seed: default seed of every codec that does not set its own.
    """

    seed: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CompressParams:
        """Check and build the section from the parsed `params.yaml`."""
        raw = section(params, "compress")
        check_keys(raw, cls.__dataclass_fields__, "compress")
        return cls(seed=check_seed(raw.get("seed", 0), "compress.seed"))


@dataclass(frozen=True)
class SweepParams:
    """The `sweep` section: the MRL dimension sweep.

    Attributes:
        ablation: the ablation whose first codec (an `mrl` codec) is swept; every
            method reuses its params and is scored at each size in its `dims`.
        methods: MRL methods compared, each the DVC stage `sweep@<method>`.
    """

    ablation: str
    methods: tuple[str, ...]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SweepParams:
        """Check and build the section from the parsed `params.yaml`."""
        raw = section(params, "sweep")
        check_keys(raw, cls.__dataclass_fields__, "sweep")
        methods = check_type(raw.get("methods", []), list, "sweep.methods")
        return cls(
            ablation=check_type(raw.get("ablation", "mrl"), str, "sweep.ablation"),
            methods=tuple(
                check_type(m, str, f"sweep.methods[{i}]") for i, m in enumerate(methods)
            ),
        )
