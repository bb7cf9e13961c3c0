"""Codecs for the compression chain, built by name from params.yaml."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from mshc.compress.base import Chain, Codec, Pairs
from mshc.config import check_type, unknown_name_error

__all__ = ["CODECS", "Chain", "Codec", "Pairs", "build_chain", "build_codec"]

# kind -> "module:class". Modules are imported on first use, so that reading params
# does not load torch or faiss.
CODECS = {
    "mrl": "mshc.compress.mrl:MRLCodec",
    "vq": "mshc.compress.vq:SoftToHardVQ",
    "pq": "mshc.compress.pq:ProductQuantizer",
    "opq": "mshc.compress.pq:OPQ",
    "rabitq": "mshc.compress.pq:RaBitQ",
    "sae": "mshc.compress.sae:TopKSAE",
    "int8": "mshc.compress.scalar:Int8",
    "binary": "mshc.compress.scalar:Binary",
}


def codec_class(kind: str, key: str) -> type[Codec]:
    """Return the codec class registered as `kind`.

    Raises:
        ValueError: `kind` is not a registered codec; the message names the closest.
    """
    if kind not in CODECS:
        raise unknown_name_error("codec kind", kind, f"{key}.kind", CODECS)
    module, name = CODECS[kind].split(":")
    cls: type[Codec] = getattr(importlib.import_module(module), name)
    return cls


def build_codec(config: Mapping[str, Any], key: str, seed: int = 0) -> Codec:
    """Build an unfitted codec from one params.yaml entry such as `{kind: pq, m: 16}`.

    `seed` is used unless the entry sets its own.

    Raises:
        ValueError: unknown kind or param, or an invalid value.
        TypeError: a param of the wrong type.
    """
    check_type(config, dict, key)
    if "kind" not in config:
        raise ValueError(
            f"{key} has no 'kind'; set it to one of: {', '.join(sorted(CODECS))}"
        )
    kind = check_type(config["kind"], str, f"{key}.kind")
    cls = codec_class(kind, key)
    params = {k: v for k, v in config.items() if k != "kind"}
    accepted = [
        p
        for p in inspect.signature(cls.__init__).parameters
        if p not in ("self", "key")
    ]
    for name in params:
        if name not in accepted:
            raise unknown_name_error(f"{kind} param", name, f"{key}.{name}", accepted)
    params.setdefault("seed", seed)
    # Every codec's __init__ takes `key`, which the abstract base does not declare.
    factory: Any = cls
    codec: Codec = factory(**params, key=key)
    return codec


def build_chain(configs: Any, key: str, seed: int = 0) -> Chain:
    """Build an unfitted chain from a list of codec entries.

    Raises:
        ValueError, TypeError: as `build_codec`, naming `key[i]`.
    """
    check_type(configs, list, key)
    if not configs:
        raise ValueError(f"{key} is empty; list at least one codec")
    keys = [f"{key}[{i}]" for i in range(len(configs))]
    codecs = [build_codec(c, k, seed) for c, k in zip(configs, keys, strict=True)]
    return Chain(codecs, keys)
