"""The corpus, ablations and sweep sections: checks and pinned messages."""

from __future__ import annotations

import pytest

from mshc.compress.params import (
    CorpusParams,
    SweepParams,
    get_ablation,
    lineage,
    load_ablations,
    parse_source,
)


def ladder() -> dict:
    return {
        "ablations": {
            "mrl": {"parent": "full", "group": "ladder", "chain": [{"kind": "mrl"}]},
            "mrl_vq": {"parent": "mrl", "group": "ladder", "chain": [{"kind": "vq"}]},
            "pq_64": {"parent": "full", "chain": [{"kind": "pq", "m": 8}]},
        }
    }


def test_load_ablations_fields() -> None:
    ablations = load_ablations(ladder())

    assert list(ablations) == ["mrl", "mrl_vq", "pq_64"]
    assert ablations["mrl_vq"].parent == "mrl"
    assert ablations["pq_64"].group == "baseline"
    assert ablations["mrl_vq"].key == "ablations.mrl_vq"


def test_lineage_from_root() -> None:
    ablations = load_ablations(ladder())

    assert [a.name for a in lineage(ablations, "mrl_vq")] == ["mrl", "mrl_vq"]


def test_unknown_parent_suggests() -> None:
    params = ladder()
    params["ablations"]["mrl_vq"]["parent"] = "mrk"
    with pytest.raises(
        ValueError,
        match=r"unknown parent 'mrk' in ablations.mrl_vq.parent.*did you mean 'mrl'",
    ):
        load_ablations(params)


def test_missing_parent() -> None:
    params = ladder()
    del params["ablations"]["pq_64"]["parent"]
    with pytest.raises(ValueError, match=r"ablations.pq_64 has no 'parent'"):
        load_ablations(params)


def test_parent_cycle() -> None:
    params = ladder()
    params["ablations"]["mrl"]["parent"] = "mrl_vq"
    with pytest.raises(ValueError, match=r"ablations form a parent cycle"):
        load_ablations(params)


def test_full_cannot_be_redefined() -> None:
    params = ladder()
    params["ablations"]["full"] = {"parent": "full", "chain": [{"kind": "pq"}]}
    with pytest.raises(ValueError, match=r"ablations.full: 'full' is the uncompressed"):
        load_ablations(params)


def test_unknown_group() -> None:
    params = ladder()
    params["ablations"]["pq_64"]["group"] = "baselin"
    with pytest.raises(ValueError, match=r"did you mean 'baseline'"):
        load_ablations(params)


def test_empty_chain() -> None:
    params = ladder()
    params["ablations"]["pq_64"]["chain"] = []
    with pytest.raises(ValueError, match=r"ablations.pq_64.chain is empty"):
        load_ablations(params)


def test_unknown_field() -> None:
    params = ladder()
    params["ablations"]["pq_64"]["chian"] = []
    with pytest.raises(ValueError, match=r"unknown key 'chian'.*did you mean 'chain'"):
        load_ablations(params)


def test_get_ablation_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"unknown ablation 'mrl_v'.*did you mean"):
        get_ablation(ladder(), "mrl_v")


def test_parse_source() -> None:
    assert parse_source("korsts:train", "corpus.sources[0]") == ("korsts", "train")


def test_parse_source_without_split() -> None:
    with pytest.raises(
        ValueError,
        match=r"corpus.sources\[0\]='korsts' must look like '<dataset>:<split>'",
    ):
        parse_source("korsts", "corpus.sources[0]")


def test_corpus_params() -> None:
    params = {"corpus": {"sources": ["korsts:train", "nsmc:train"], "pairs": None}}
    settings = CorpusParams.from_params(params)

    assert settings.sources == (("korsts", "train"), ("nsmc", "train"))
    assert settings.pairs is None
    assert settings.max_texts is None


def test_corpus_params_empty_sources() -> None:
    with pytest.raises(ValueError, match=r"corpus.sources is empty"):
        CorpusParams.from_params({"corpus": {"sources": []}})


def test_sweep_params_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"sweep.methods='pca' has type str"):
        SweepParams.from_params({"sweep": {"methods": "pca"}})
