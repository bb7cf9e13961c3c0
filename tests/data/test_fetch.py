"""Fetch stage logic: copies from MSHC_DATA_DIR, hash checks and failed downloads.

No test touches the network: the download path runs with `_download` replaced.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
from pathlib import Path

import pytest

from mshc.data import fetch as fetch_module
from mshc.data.fetch import FetchParams, data_dir_from_env, fetch, sha256_of

STS_TEST = "korsts/sts-test.tsv"
STS_TRAIN = "korsts/sts-train.tsv"
KLUE_TRAIN = "klue-sts/klue-sts-v1.1_train.json"

CONTENTS = {
    STS_TEST: "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n"
    "main-news\theadlines\t2015\t0001\t2.0\t비가 온다.\t해가 뜬다.",
    STS_TRAIN: "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n",
}


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_params(sha256: dict[str, str | None] | None = None) -> FetchParams:
    """Return fetch params for two required KorSTS files and one optional KLUE file."""
    sha256 = sha256 or {}
    sources: dict[str, dict[str, dict]] = {}
    for relative, optional in (
        (STS_TEST, False),
        (STS_TRAIN, False),
        (KLUE_TRAIN, True),
    ):
        source, name = relative.split("/")
        sources.setdefault(source, {})[name] = {
            "url": f"https://example.invalid/{relative}",
            "sha256": sha256.get(relative),
            "optional": optional,
        }
    return FetchParams.from_params({"fetch": {"sources": sources, "timeout_s": 5}})


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake MSHC_DATA_DIR containing the two KorSTS files but not the KLUE one."""
    folder = tmp_path / "upstream"
    for relative, text in CONTENTS.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    monkeypatch.setenv("MSHC_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "repo" / "data" / "raw"


def staging_folders(out_dir: Path) -> list[Path]:
    """Return leftover staging folders that fetch makes beside `out_dir`."""
    if not out_dir.parent.exists():
        return []
    return sorted(out_dir.parent.glob(f".{out_dir.name}.*"))


def fail_on_download(url: str, dest: Path, timeout: float) -> None:
    raise AssertionError(f"fetch tried to download {url} in copy mode")


# Copy mode


def test_copy_brings_files(data_dir, out_dir, monkeypatch):
    monkeypatch.setattr(fetch_module, "_download", fail_on_download)

    report = fetch(make_params(), out_dir, data_dir_from_env())

    assert report.mode == "copy"
    assert (out_dir / STS_TEST).read_text(encoding="utf-8") == CONTENTS[STS_TEST]
    assert (out_dir / STS_TRAIN).read_text(encoding="utf-8") == CONTENTS[STS_TRAIN]
    assert staging_folders(out_dir) == []


def test_copy_records_sha256(data_dir, out_dir):
    report = fetch(make_params(), out_dir, data_dir_from_env())

    assert sorted(report.files) == [STS_TEST, STS_TRAIN]
    assert report.files[STS_TEST]["sha256"] == sha256_hex(CONTENTS[STS_TEST])
    assert report.files[STS_TEST]["bytes"] == len(CONTENTS[STS_TEST].encode("utf-8"))
    assert report.files[STS_TRAIN]["sha256"] == sha256_hex(CONTENTS[STS_TRAIN])


def test_copy_matching_sha256_passes(data_dir, out_dir):
    expected = {relative: sha256_hex(text) for relative, text in CONTENTS.items()}

    report = fetch(make_params(expected), out_dir, data_dir_from_env())

    assert report.files[STS_TEST]["sha256"] == expected[STS_TEST]


def test_copy_missing_optional_reported(data_dir, out_dir):
    report = fetch(make_params(), out_dir, data_dir_from_env())

    assert report.missing_optional == [KLUE_TRAIN]
    assert not (out_dir / KLUE_TRAIN).exists()
    assert KLUE_TRAIN not in report.files


def test_copy_optional_present_copied(data_dir, out_dir):
    (data_dir / KLUE_TRAIN).parent.mkdir(parents=True)
    (data_dir / KLUE_TRAIN).write_text("[]", encoding="utf-8")

    report = fetch(make_params(), out_dir, data_dir_from_env())

    assert report.missing_optional == []
    assert (out_dir / KLUE_TRAIN).read_text(encoding="utf-8") == "[]"


def test_copy_missing_required_raises(data_dir, out_dir):
    (data_dir / STS_TRAIN).unlink()

    with pytest.raises(FileNotFoundError) as info:
        fetch(make_params(), out_dir, data_dir_from_env())

    message = str(info.value)
    assert STS_TRAIN in message
    assert STS_TEST not in message
    assert "MSHC_DATA_DIR" in message
    assert not out_dir.exists()
    assert staging_folders(out_dir) == []


def test_copy_missing_required_copies_nothing(data_dir, out_dir, monkeypatch):
    # The required file listed last is missing: nothing may be copied before the
    # check, so the earlier files must not be touched either.
    (data_dir / STS_TRAIN).unlink()
    copies: list[Path] = []
    monkeypatch.setattr(
        fetch_module.shutil, "copyfile", lambda src, dst: copies.append(Path(src))
    )

    with pytest.raises(FileNotFoundError):
        fetch(make_params(), out_dir, data_dir_from_env())

    assert copies == []


def test_copy_sha256_mismatch_raises(data_dir, out_dir):
    wrong = {STS_TRAIN: "0" * 64}

    with pytest.raises(ValueError) as info:
        fetch(make_params(wrong), out_dir, data_dir_from_env())

    message = str(info.value)
    assert str(data_dir / STS_TRAIN) in message
    assert sha256_hex(CONTENTS[STS_TRAIN]) in message
    assert f"fetch.sources.korsts.sts-train.tsv.sha256 expects {'0' * 64}" in message
    assert not out_dir.exists()
    assert staging_folders(out_dir) == []


def test_failed_fetch_keeps_old_out_dir(data_dir, out_dir):
    (out_dir / "korsts").mkdir(parents=True)
    (out_dir / "korsts" / "old.tsv").write_text("이전 파일", encoding="utf-8")

    with pytest.raises(ValueError):
        fetch(make_params({STS_TEST: "f" * 64}), out_dir, data_dir_from_env())

    assert (out_dir / "korsts" / "old.tsv").read_text(encoding="utf-8") == "이전 파일"
    assert not (out_dir / STS_TRAIN).exists()
    assert staging_folders(out_dir) == []


def test_fetch_replaces_old_out_dir(data_dir, out_dir):
    (out_dir / "stale").mkdir(parents=True)
    (out_dir / "stale" / "old.txt").write_text("x", encoding="utf-8")

    fetch(make_params(), out_dir, data_dir_from_env())

    assert not (out_dir / "stale").exists()
    assert (out_dir / STS_TEST).is_file()


# MSHC_DATA_DIR


def test_env_unset_returns_none(monkeypatch):
    monkeypatch.delenv("MSHC_DATA_DIR", raising=False)

    assert data_dir_from_env() is None


def test_env_empty_returns_none(monkeypatch):
    monkeypatch.setenv("MSHC_DATA_DIR", "")

    assert data_dir_from_env() is None


def test_env_missing_folder_raises(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("MSHC_DATA_DIR", str(missing))

    with pytest.raises(FileNotFoundError) as info:
        data_dir_from_env()

    message = str(info.value)
    assert f"MSHC_DATA_DIR={missing} is not a directory" in message
    assert "<source>/<file>" in message
    assert "unset it to download" in message


def test_env_file_not_folder_raises(tmp_path, monkeypatch):
    file = tmp_path / "data.txt"
    file.write_text("x", encoding="utf-8")
    monkeypatch.setenv("MSHC_DATA_DIR", str(file))

    with pytest.raises(FileNotFoundError, match="is not a directory"):
        data_dir_from_env()


def test_env_folder_resolved(data_dir):
    assert data_dir_from_env() == data_dir.resolve()


# Download mode, with `_download` replaced by local stand-ins


def test_download_brings_files(out_dir, monkeypatch):
    calls: list[tuple[str, float]] = []

    def fake_download(url: str, dest: Path, timeout: float) -> None:
        calls.append((url, timeout))
        dest.write_text(f"내용 {url.rsplit('/', 1)[-1]}", encoding="utf-8")

    monkeypatch.setattr(fetch_module, "_download", fake_download)

    report = fetch(make_params(), out_dir, None)

    assert report.mode == "download"
    assert calls == [
        (f"https://example.invalid/{STS_TEST}", 5.0),
        (f"https://example.invalid/{STS_TRAIN}", 5.0),
        (f"https://example.invalid/{KLUE_TRAIN}", 5.0),
    ]
    assert (out_dir / STS_TEST).read_text(encoding="utf-8") == "내용 sts-test.tsv"
    assert report.files[STS_TEST]["sha256"] == sha256_hex("내용 sts-test.tsv")
    assert report.missing_optional == []


def test_download_required_failure_raises(out_dir, monkeypatch):
    def fail(url: str, dest: Path, timeout: float) -> None:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(fetch_module, "_download", fail)

    with pytest.raises(ConnectionError) as info:
        fetch(make_params(), out_dir, None)

    message = str(info.value)
    assert f"download of https://example.invalid/{STS_TEST} failed" in message
    assert f"set MSHC_DATA_DIR to a folder holding {STS_TEST}" in message
    assert not out_dir.exists()
    assert staging_folders(out_dir) == []


def test_download_optional_failure_reported(out_dir, monkeypatch):
    def fail_optional(url: str, dest: Path, timeout: float) -> None:
        if url.endswith(KLUE_TRAIN):
            raise urllib.error.URLError("timed out")
        dest.write_text("내용", encoding="utf-8")

    monkeypatch.setattr(fetch_module, "_download", fail_optional)

    report = fetch(make_params(), out_dir, None)

    assert report.missing_optional == [KLUE_TRAIN]
    assert sorted(report.files) == [STS_TEST, STS_TRAIN]


def test_download_optional_partial_removed(out_dir, monkeypatch):
    def fail_midway(url: str, dest: Path, timeout: float) -> None:
        dest.write_text("내용", encoding="utf-8")
        if url.endswith(KLUE_TRAIN):
            raise urllib.error.URLError("connection reset")

    monkeypatch.setattr(fetch_module, "_download", fail_midway)

    fetch(make_params(), out_dir, None)

    assert not (out_dir / KLUE_TRAIN).exists()


def test_download_sha256_mismatch_raises(out_dir, monkeypatch):
    monkeypatch.setattr(
        fetch_module,
        "_download",
        lambda url, dest, timeout: dest.write_text("다른 판", encoding="utf-8"),
    )

    with pytest.raises(
        ValueError, match=re.escape(f"https://example.invalid/{STS_TEST}")
    ):
        fetch(make_params({STS_TEST: sha256_hex("원본")}), out_dir, None)

    assert not out_dir.exists()


# FetchParams and helpers


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "file.bin"
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB read block
    path.write_bytes(data)

    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_params_files_and_timeout():
    params = make_params()

    assert [f.relative for f in params.sources] == [STS_TEST, STS_TRAIN, KLUE_TRAIN]
    assert [f.optional for f in params.sources] == [False, False, True]
    assert params.timeout_s == 5.0


def test_params_unknown_entry_key_raises():
    raw = {"sources": {"korsts": {"sts-test.tsv": {"url": "u", "sha": "x"}}}}

    with pytest.raises(ValueError) as info:
        FetchParams.from_params({"fetch": raw})

    message = str(info.value)
    assert "unknown key 'sha' in fetch.sources.korsts.sts-test.tsv" in message
    assert "did you mean 'sha256'?" in message


def test_params_optional_wrong_type_raises():
    raw = {"sources": {"korsts": {"sts-test.tsv": {"url": "u", "optional": "yes"}}}}

    with pytest.raises(
        TypeError, match=r"fetch\.sources\.korsts\.sts-test\.tsv\.optional"
    ):
        FetchParams.from_params({"fetch": raw})


def test_params_missing_url_raises():
    raw = {"sources": {"korsts": {"sts-test.tsv": {"sha256": None}}}}

    with pytest.raises(TypeError, match=r"fetch\.sources\.korsts\.sts-test\.tsv\.url"):
        FetchParams.from_params({"fetch": raw})


def test_download_real_urlopen_file_urls(tmp_path, monkeypatch):
    # file:// URLs go through the real urllib download path with no network.
    monkeypatch.delenv("MSHC_DATA_DIR", raising=False)
    origin = tmp_path / "origin"
    (origin / "korsts").mkdir(parents=True)
    text = "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n" * 3000
    (origin / "korsts" / "sts-test.tsv").write_text(text, encoding="utf-8")
    digest = sha256_of(origin / "korsts" / "sts-test.tsv")
    url = (origin / "korsts" / "sts-test.tsv").as_uri()
    entry = {"url": url, "sha256": digest}
    missing = {"url": (origin / "absent.json").as_uri(), "optional": True}
    sources = {"korsts": {"sts-test.tsv": entry, "absent.json": missing}}
    params = FetchParams.from_params({"fetch": {"sources": sources}})

    report = fetch(params, tmp_path / "raw", None)

    copied = tmp_path / "raw" / "korsts" / "sts-test.tsv"
    assert copied.read_text(encoding="utf-8") == text
    assert report.mode == "download"
    assert report.files["korsts/sts-test.tsv"]["sha256"] == digest
    assert report.missing_optional == ["korsts/absent.json"]
    assert not (tmp_path / "raw" / "korsts" / "absent.json").exists()
