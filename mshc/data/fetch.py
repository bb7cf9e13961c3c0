"""Bring each dataset's upstream files into `data/raw/<source>/`.

Files are copied from `MSHC_DATA_DIR` when it is set (machines without network),
else downloaded from their upstream URLs. Either way the SHA-256 of each file is
checked against params when params give one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from mshc.config import check_keys, check_type, section

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "MSHC_DATA_DIR"


@dataclass(frozen=True)
class UpstreamFile:
    """One upstream file of a source: where it lives and its expected hash."""

    source: str
    name: str
    url: str
    sha256: str | None
    optional: bool

    @property
    def relative(self) -> str:
        """Path below `data/raw/` and below `MSHC_DATA_DIR`."""
        return f"{self.source}/{self.name}"


@dataclass(frozen=True)
class FetchParams:
    """The `fetch` section: the upstream files and the download timeout.

    Attributes:
        sources: every upstream file, grouped by source folder.
        timeout_s: seconds before a download without progress is abandoned.
    """

    sources: tuple[UpstreamFile, ...]
    timeout_s: float

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> FetchParams:
        """Check and build the section from the parsed `params.yaml`."""
        raw = section(params, "fetch")
        check_keys(raw, ("sources", "timeout_s"), "fetch")
        files = []
        sources = check_type(raw.get("sources"), dict, "fetch.sources")
        for source, entries in sources.items():
            check_type(entries, dict, f"fetch.sources.{source}")
            for name, entry in entries.items():
                key = f"fetch.sources.{source}.{name}"
                check_type(entry, dict, key)
                check_keys(entry, ("url", "sha256", "optional"), key)
                files.append(
                    UpstreamFile(
                        source=str(source),
                        name=str(name),
                        url=check_type(entry.get("url"), str, f"{key}.url"),
                        sha256=check_type(
                            entry.get("sha256"), (str, type(None)), f"{key}.sha256"
                        ),
                        optional=check_type(
                            entry.get("optional", False), bool, f"{key}.optional"
                        ),
                    )
                )
        timeout = float(check_type(raw.get("timeout_s", 60), float, "fetch.timeout_s"))
        return cls(sources=tuple(files), timeout_s=timeout)


@dataclass
class FetchReport:
    """Outcome of `fetch`: the files brought in, with hashes, and the optional ones missing."""

    mode: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing_optional: list[str] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_dir_from_env() -> Path | None:
    """Return the folder named by `MSHC_DATA_DIR`, or None when it is unset.

    Raises:
        FileNotFoundError: the variable names a folder that does not exist.
    """
    value = os.environ.get(DATA_DIR_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"{DATA_DIR_ENV}={value} is not a directory; point it at a folder that "
            f"holds <source>/<file> as the upstream repositories lay them out "
            f"(for example ../shared/data), or unset it to download"
        )
    return path.resolve()


def _check_hash(file: UpstreamFile, path: Path, origin: str) -> str:
    digest = sha256_of(path)
    if file.sha256 is not None and digest != file.sha256:
        raise ValueError(
            f"{origin} has SHA-256 {digest}, but fetch.sources.{file.source}."
            f"{file.name}.sha256 expects {file.sha256}; the file is damaged or "
            f"another version; replace it, or update the sha256 in params.yaml if the "
            f"new version is intended"
        )
    return digest


def _download(url: str, dest: Path, timeout: float) -> None:
    """Download `url` to `dest`, with a progress bar on an interactive terminal."""
    request = urllib.request.Request(url, headers={"User-Agent": "mshc-fetch"})
    with (
        urllib.request.urlopen(request, timeout=timeout) as response,
        dest.open("wb") as out,
        tqdm(
            total=int(response.headers.get("Content-Length") or 0) or None,
            unit="B",
            unit_scale=True,
            desc=dest.name,
            disable=not sys.stderr.isatty(),
        ) as bar,
    ):
        for block in iter(lambda: response.read(1 << 16), b""):
            out.write(block)
            bar.update(len(block))


def _bring(
    file: UpstreamFile, dest: Path, data_dir: Path | None, timeout: float
) -> str | None:
    """Copy or download one file to `dest`; return where it came from, or None if absent."""
    if data_dir is not None:
        origin = data_dir / file.relative
        if not origin.is_file():
            return None
        shutil.copyfile(origin, dest)
        return str(origin)
    try:
        _download(file.url, dest, timeout)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        dest.unlink(missing_ok=True)
        if file.optional:
            logger.warning("could not download optional %s: %s", file.url, error)
            return None
        raise ConnectionError(
            f"download of {file.url} failed ({error}); with no network, set "
            f"{DATA_DIR_ENV} to a folder holding {file.relative}"
        ) from error
    return file.url


def check_available(files: tuple[UpstreamFile, ...], data_dir: Path | None) -> None:
    """Raise before any copying when a required file is missing from `data_dir`.

    Raises:
        FileNotFoundError: a required file is absent.
    """
    if data_dir is None:
        return
    missing = [
        f.relative
        for f in files
        if not f.optional and not (data_dir / f.relative).is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"{DATA_DIR_ENV}={data_dir} lacks {', '.join(missing)}; copy them there "
            f"from their upstream repositories, or unset {DATA_DIR_ENV} to download"
        )


def fetch(params: FetchParams, out_dir: Path, data_dir: Path | None) -> FetchReport:
    """Bring every upstream file into `out_dir/<source>/<file>`.

    The files land in a temporary folder that replaces `out_dir` only when all of
    them are in place and verified.

    Raises:
        FileNotFoundError: a required file is missing from `data_dir`.
        ConnectionError: a required download failed.
        ValueError: a file's SHA-256 differs from the one in params.
    """
    check_available(params.sources, data_dir)
    report = FetchReport(mode="copy" if data_dir else "download")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for file in params.sources:
            dest = staging / file.relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            origin = _bring(file, dest, data_dir, params.timeout_s)
            if origin is None:
                logger.warning(
                    "optional file %s is not available; skipped", file.relative
                )
                report.missing_optional.append(file.relative)
                continue
            digest = _check_hash(file, dest, origin)
            size = dest.stat().st_size
            report.files[file.relative] = {"sha256": digest, "bytes": size}
            logger.info("%s: %d bytes from %s", file.relative, size, origin)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return report
