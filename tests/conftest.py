"""Shared fixtures: tiny upstream-layout data files and seeded synthetic embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

# Short Korean sentences; pairs reuse them so scores have some spread.
SENTENCES = [
    "비행기가 이륙하고 있다.",
    "한 남자가 큰 플루트를 연주하고 있다.",
    "남자가 플루트를 연주하고 있다.",
    "여자가 양파를 썰고 있다.",
    "아이들이 공원에서 축구를 한다.",
    "고양이가 소파 위에서 자고 있다.",
    "호스트분들이 너무 친절하셨습니다.",
    "주요 관광지 모두 걸어서 이동가능합니다.",
    '그리고 그가 말했다, "엄마, 저 왔어요."',
    "그는 한마디도 하지 않았다.",
    "날씨가 맑고 따뜻하다.",
    "버스가 정류장에 도착했다.",
]
REVIEWS = [
    ("최고의 영화였다 강추", "1"),
    ("배우 연기가 정말 좋았어요", "1"),
    ("감동적이고 재미있다", "1"),
    ("다시 보고 싶은 영화", "1"),
    ("시간 낭비였다 최악", "0"),
    ("지루하고 재미없음", "0"),
    ("돈이 아깝다", "0"),
    ("스토리가 엉망이다", "0"),
]
NLI_LABELS = ("entailment", "neutral", "contradiction")


def _pairs(count: int) -> list[tuple[str, str, int]]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(count):
        a, b = rng.choice(len(SENTENCES), size=2, replace=False)
        out.append((SENTENCES[a], SENTENCES[b], i))
    return out


def write_upstream_data(root: Path, pairs: int = 24) -> Path:
    """Write every built-in source in its upstream layout under `root`; return `root`."""
    for folder in ("klue-sts", "klue-nli", "korsts", "kornli", "nsmc"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    sts = [
        {
            "guid": f"klue-sts-v1_dev_{i:05d}",
            "source": "fixture",
            "sentence1": a,
            "sentence2": b,
            "labels": {
                "label": round((i * 7 % 51) / 10, 1),
                "real-label": 0.0,
                "binary-label": 0,
            },
        }
        for a, b, i in _pairs(pairs)
    ]
    (root / "klue-sts" / "klue-sts-v1.1_dev.json").write_text(
        json.dumps(sts, ensure_ascii=False, indent=4), encoding="utf-8"
    )
    nli = [
        {
            "guid": f"klue-nli-v1_dev_{i:05d}",
            "source": "fixture",
            "premise": a,
            "hypothesis": b,
            "gold_label": NLI_LABELS[i % 3],
        }
        for a, b, i in _pairs(pairs)
    ]
    (root / "klue-nli" / "klue-nli-v1.1_dev.json").write_text(
        json.dumps(nli, ensure_ascii=False, indent=4), encoding="utf-8"
    )
    header = "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2"
    for split in ("train", "dev", "test"):
        lines = [header] + [
            f"main-captions\tMSRvid\t2012test\t{i:04d}\t{(i * 3 % 26) / 5:.3f}\t{a}\t{b}"
            for a, b, i in _pairs(pairs)
        ]
        # Upstream KorSTS files end without a newline.
        (root / "korsts" / f"sts-{split}.tsv").write_text(
            "\n".join(lines), encoding="utf-8"
        )
    for split in ("dev", "test"):
        lines = ["sentence1\tsentence2\tgold_label"] + [
            f"{a}\t{b}\t{NLI_LABELS[i % 3]}" for a, b, i in _pairs(pairs)
        ]
        (root / "kornli" / f"xnli.{split}.ko.tsv").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    for split, repeat in (("train", 4), ("test", 2)):
        lines = ["id\tdocument\tlabel"] + [
            f"{1000 + i}\t{text} {i}\t{label}"
            for i, (text, label) in enumerate(REVIEWS * repeat)
        ]
        (root / "nsmc" / f"ratings_{split}.txt").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    return root


@pytest.fixture
def upstream_dir(tmp_path: Path) -> Path:
    """A folder laid out like MSHC_DATA_DIR, holding tiny copies of every source."""
    return write_upstream_data(tmp_path / "upstream")


@pytest.fixture
def clustered() -> np.ndarray:
    """Seeded (600, 32) float32 vectors in 6 clusters, unit length."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(6, 32))
    x = centers[rng.integers(0, 6, size=600)] + 0.3 * rng.normal(size=(600, 32))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)
