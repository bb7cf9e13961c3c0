"""Parsers of mshc.data.formats on small files in the upstream layouts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from mshc.data.formats import FORMATS, BadRow, parse_file

KORSTS_HEADER = "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2"
KORNLI_HEADER = "sentence1\tsentence2\tgold_label"
NSMC_HEADER = "id\tdocument\tlabel"

# Sentences of KorSTS and KorNLI may contain bare double quotes, balanced or not.
QUOTE_INSIDE = '그가 말했다, "엄마, 저 왔어요."'
QUOTE_LEADING = '"엄마, 저 왔어요." 그가 말했다.'
QUOTE_UNCLOSED = '"엄마, 저 왔어요. 그가 말했다.'


def write(path: Path, lines: list[str], final_newline: bool = True) -> Path:
    """Write `lines` as UTF-8, one per line, and return `path`."""
    text = "\n".join(lines) + ("\n" if final_newline else "")
    path.write_text(text, encoding="utf-8")
    return path


def korsts_row(number: int, score: str, sentence1: str, sentence2: str) -> str:
    return (
        f"main-news\theadlines\t2015\t{number:04d}\t{score}\t{sentence1}\t{sentence2}"
    )


def klue_sts_item(guid: int, sentence1: str, sentence2: str, label: float) -> str:
    item = {
        "guid": f"klue-sts-v1_dev_{guid:05d}",
        "source": "airbnb-rtt",
        "sentence1": sentence1,
        "sentence2": sentence2,
        "labels": {"label": label, "real-label": label + 0.04, "binary-label": 1},
    }
    return json.dumps(item, ensure_ascii=False)


def klue_nli_item(guid: int, premise: str, hypothesis: str, label: str) -> str:
    item = {
        "guid": f"klue-nli-v1_dev_{guid:05d}",
        "source": "NSMC",
        "premise": premise,
        "hypothesis": hypothesis,
        "gold_label": label,
    }
    return json.dumps(item, ensure_ascii=False)


def test_formats_registry_names():
    # A new format must get parser tests here before it is registered.
    assert set(FORMATS) == {
        "klue-sts-json",
        "klue-nli-json",
        "korsts-tsv",
        "kornli-tsv",
        "nsmc-tsv",
        "csv",
        "tsv",
        "jsonl",
    }


# KorSTS TSV


def test_korsts_valid_rows(tmp_path):
    path = write(
        tmp_path / "sts-test.tsv",
        [
            KORSTS_HEADER,
            korsts_row(
                1, "5.000", "비행기가 이륙하고 있다.", "비행기가 이륙하고 있다."
            ),
            korsts_row(2, "0.500", "여자가 양파를 썰고 있다.", "남자가 플루트를 분다."),
        ],
    )

    result = parse_file(path, "korsts-tsv", "sts")

    assert list(result.table.columns) == ["sentence1", "sentence2", "score"]
    assert result.table["sentence1"].tolist() == [
        "비행기가 이륙하고 있다.",
        "여자가 양파를 썰고 있다.",
    ]
    assert result.table["sentence2"].tolist() == [
        "비행기가 이륙하고 있다.",
        "남자가 플루트를 분다.",
    ]
    assert result.table["score"].tolist() == [5.0, 0.5]
    assert result.table["score"].dtype == "float64"
    assert result.bad_rows == []
    assert result.rows_read == 2


def test_korsts_bare_quotes_kept(tmp_path):
    path = write(
        tmp_path / "sts-test.tsv",
        [
            KORSTS_HEADER,
            korsts_row(1, "3.800", QUOTE_INSIDE, "그는 엄마에게 왔다고 말했다."),
            korsts_row(2, "2.000", QUOTE_LEADING, "그는 조용히 들어왔다."),
            korsts_row(3, "1.000", QUOTE_UNCLOSED, "그는 한마디도 하지 않았다."),
            korsts_row(4, "0.000", "비가 온다.", "해가 뜬다."),
        ],
    )

    result = parse_file(path, "korsts-tsv", "sts")

    assert len(result.table) == 4
    assert result.table["sentence1"].tolist() == [
        QUOTE_INSIDE,
        QUOTE_LEADING,
        QUOTE_UNCLOSED,
        "비가 온다.",
    ]
    assert result.bad_rows == []


def test_kornli_pandas_default_misreads_quotes(tmp_path):
    # The TSV reader splits on tabs alone because pandas' default quoting strips a
    # leading quote and fails on an unclosed one or merges the lines after it.
    path = write(
        tmp_path / "xnli.test.ko.tsv",
        [
            KORNLI_HEADER,
            f"{QUOTE_LEADING}\t그가 집에 왔다.\tentailment",
            f"{QUOTE_UNCLOSED}\t그는 나갔다.\tcontradiction",
            "비가 온다.\t날씨가 맑다.\tcontradiction",
        ],
    )

    ours = parse_file(path, "kornli-tsv", "pair-classification")
    try:
        theirs = pd.read_csv(path, sep="\t")["sentence1"].tolist()
    except pd.errors.ParserError:
        theirs = None

    assert ours.table["premise"].tolist() == [
        QUOTE_LEADING,
        QUOTE_UNCLOSED,
        "비가 온다.",
    ]
    assert theirs != ours.table["premise"].tolist()


def test_korsts_last_line_without_newline(tmp_path):
    path = write(
        tmp_path / "sts-test.tsv",
        [
            KORSTS_HEADER,
            korsts_row(1, "4.200", "고양이가 잔다.", "고양이가 자고 있다."),
            korsts_row(2, "1.250", "버스가 도착했다.", "기차가 떠났다."),
        ],
        final_newline=False,
    )

    result = parse_file(path, "korsts-tsv", "sts")

    assert len(result.table) == 2
    assert result.table["sentence2"].iloc[-1] == "기차가 떠났다."
    assert result.table["score"].iloc[-1] == 1.25


def test_korsts_crlf_line_endings(tmp_path):
    path = tmp_path / "sts-test.tsv"
    lines = [KORSTS_HEADER, korsts_row(1, "2.000", "비가 온다.", "눈이 온다.")]
    path.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")

    result = parse_file(path, "korsts-tsv", "sts")

    assert result.table["sentence2"].tolist() == ["눈이 온다."]
    assert result.table["score"].tolist() == [2.0]


def test_korsts_bad_rows_named(tmp_path):
    path = write(
        tmp_path / "sts-test.tsv",
        [
            KORSTS_HEADER,  # line 1
            korsts_row(1, "4.000", "아이들이 축구를 한다.", "아이들이 공을 찬다."),
            "main-news\theadlines\t2015\t0002\t3.000\t문장이 하나뿐이다.",  # line 3
            korsts_row(3, "높음", "점수가 글자다.", "점수가 숫자가 아니다."),  # line 4
            korsts_row(4, "5.200", "점수가 너무 크다.", "범위를 넘는다."),  # line 5
            korsts_row(5, "-0.100", "점수가 음수다.", "범위를 넘는다."),  # line 6
            korsts_row(6, "2.000", "", "첫 문장이 비었다."),  # line 7
            korsts_row(7, "nan", "점수가 NaN이다.", "유한하지 않다."),  # line 8
            "",  # line 9: blank lines are skipped, not reported
            korsts_row(8, "1.000", "마지막 줄이다.", "끝이다."),  # line 10
        ],
        final_newline=False,
    )

    result = parse_file(path, "korsts-tsv", "sts", display_name="korsts/sts-test.tsv")

    assert result.table["sentence1"].tolist() == [
        "아이들이 축구를 한다.",
        "마지막 줄이다.",
    ]
    assert [(b.file, b.line) for b in result.bad_rows] == [
        ("korsts/sts-test.tsv", 3),
        ("korsts/sts-test.tsv", 4),
        ("korsts/sts-test.tsv", 5),
        ("korsts/sts-test.tsv", 6),
        ("korsts/sts-test.tsv", 7),
        ("korsts/sts-test.tsv", 8),
    ]
    reasons = [b.reason for b in result.bad_rows]
    assert reasons[0] == "expected 7 tab-separated fields, found 6"
    assert reasons[1] == "score='높음' is not a number"
    assert reasons[2] == "score=5.2 is outside 0-5"
    assert reasons[3] == "score=-0.1 is outside 0-5"
    assert reasons[4] == "sentence1 is empty or not text"
    assert reasons[5] == "score='nan' is not finite"
    assert result.rows_read == 8


def test_bad_row_default_file_name(tmp_path):
    path = write(tmp_path / "sts-test.tsv", [KORSTS_HEADER, "짧은 줄"])

    result = parse_file(path, "korsts-tsv", "sts")

    assert result.bad_rows == [
        BadRow(str(path), 2, "expected 7 tab-separated fields, found 1")
    ]
    assert str(result.bad_rows[0]) == (
        f"{path}:2: expected 7 tab-separated fields, found 1"
    )


def test_korsts_empty_table_columns(tmp_path):
    path = write(tmp_path / "sts-test.tsv", [KORSTS_HEADER, "짧은 줄"])

    result = parse_file(path, "korsts-tsv", "sts")

    assert len(result.table) == 0
    assert list(result.table.columns) == ["sentence1", "sentence2", "score"]
    assert result.table["score"].dtype == "float64"


# KorNLI TSV


def test_kornli_valid_rows(tmp_path):
    path = write(
        tmp_path / "xnli.dev.ko.tsv",
        [
            KORNLI_HEADER,
            f"{QUOTE_INSIDE}\t그가 엄마를 불렀다.\tentailment",
            "그는 한마디도 하지 않았다.\t그는 소리쳤다.\tcontradiction",
            "버스가 정류장에 도착했다.\t버스가 늦었다.\tneutral",
        ],
    )

    result = parse_file(path, "kornli-tsv", "pair-classification")

    assert list(result.table.columns) == ["premise", "hypothesis", "label"]
    assert result.table["premise"].tolist() == [
        QUOTE_INSIDE,
        "그는 한마디도 하지 않았다.",
        "버스가 정류장에 도착했다.",
    ]
    assert result.table["hypothesis"].tolist() == [
        "그가 엄마를 불렀다.",
        "그는 소리쳤다.",
        "버스가 늦었다.",
    ]
    assert result.table["label"].tolist() == [
        "entailment",
        "contradiction",
        "neutral",
    ]


def test_kornli_bad_rows_named(tmp_path):
    path = write(
        tmp_path / "xnli.dev.ko.tsv",
        [
            KORNLI_HEADER,
            "비가 온다.\t땅이 젖는다.\tentailment",  # line 2
            "비가 온다.\t땅이 젖는다.\tneutrall",  # line 3
            "비가 온다.\tentailment",  # line 4
            "비가 온다.\t \tneutral",  # line 5
            "비가 온다.\t땅이 마른다.\t",  # line 6
            "비가 온다.\t땅이 마른다.\tcontradiction",  # line 7
        ],
        final_newline=False,
    )

    result = parse_file(path, "kornli-tsv", "pair-classification", display_name="x")

    assert result.table["label"].tolist() == ["entailment", "contradiction"]
    assert result.bad_rows == [
        BadRow(
            "x",
            3,
            "gold_label='neutrall' is not one of entailment, neutral, contradiction",
        ),
        BadRow("x", 4, "expected 3 tab-separated fields, found 2"),
        BadRow("x", 5, "sentence2 is empty or not text"),
        BadRow("x", 6, "gold_label is empty"),
    ]


# NSMC TSV


def test_nsmc_valid_rows(tmp_path):
    path = write(
        tmp_path / "ratings_test.txt",
        [
            NSMC_HEADER,
            "6270596\t굳 ㅋ\t1",
            "9274899\t뭐야 이 평점들은.... 나쁘진 않지만 10점 짜리는 더더욱 아니잖아\t0",
        ],
    )

    result = parse_file(path, "nsmc-tsv", "classification")

    assert list(result.table.columns) == ["text", "label"]
    assert result.table["text"].tolist() == [
        "굳 ㅋ",
        "뭐야 이 평점들은.... 나쁘진 않지만 10점 짜리는 더더욱 아니잖아",
    ]
    assert result.table["label"].tolist() == ["1", "0"]


def test_nsmc_bad_rows_named(tmp_path):
    path = write(
        tmp_path / "ratings_train.txt",
        [
            NSMC_HEADER,
            "9976970\t아 더빙.. 진짜 짜증나네요 목소리\t0",  # line 2
            "3819312\t흠...포스터보고 초딩영화줄....오버연기조차 가볍지 않구나\t2",  # line 3
            "10265843\t\t0",  # line 4
            "9045019\t교도소 이야기구먼 ..솔직히 재미는 없다\t1\t추가",  # line 5
            "6483659\t사이몬페그의 익살스런 연기가 돋보였던 영화!\t1",  # line 6
        ],
    )

    result = parse_file(
        path, "nsmc-tsv", "classification", display_name="nsmc/ratings_train.txt"
    )

    assert result.table["label"].tolist() == ["0", "1"]
    assert result.bad_rows == [
        BadRow("nsmc/ratings_train.txt", 3, "label='2' is not 0 or 1"),
        BadRow("nsmc/ratings_train.txt", 4, "document is empty or not text"),
        BadRow("nsmc/ratings_train.txt", 5, "expected 3 tab-separated fields, found 4"),
    ]


# KLUE JSON lists


def test_klue_sts_valid_items(tmp_path):
    path = write(
        tmp_path / "klue-sts-v1.1_dev.json",
        [
            "[",
            "  "
            + klue_sts_item(
                0,
                "무엇보다도 호스트분들이 너무 친절하셨습니다.",
                "무엇보다도, 호스트들은 매우 친절했습니다.",
                4.9,
            )
            + ",",
            "  "
            + klue_sts_item(
                1,
                "주요 관광지 모두 걸어서 이동가능합니다.",
                "위치는 피렌체 중심가까지 걸어서 이동 가능합니다.",
                1.4,
            ),
            "]",
        ],
    )

    result = parse_file(path, "klue-sts-json", "sts")

    assert result.table["sentence1"].tolist() == [
        "무엇보다도 호스트분들이 너무 친절하셨습니다.",
        "주요 관광지 모두 걸어서 이동가능합니다.",
    ]
    assert result.table["sentence2"].tolist() == [
        "무엇보다도, 호스트들은 매우 친절했습니다.",
        "위치는 피렌체 중심가까지 걸어서 이동 가능합니다.",
    ]
    # The score is labels.label (one decimal), not labels.real-label.
    assert result.table["score"].tolist() == [4.9, 1.4]
    assert result.bad_rows == []


def test_klue_sts_indented_items(tmp_path):
    # json.dumps(indent=4), as KLUE publishes it: each item spans several lines.
    items = [
        {
            "guid": "klue-sts-v1_dev_00000",
            "sentence1": "비가 온다.",
            "sentence2": "비가 내린다.",
            "labels": {"label": 4.5, "real-label": 4.43, "binary-label": 1},
        },
        {
            "guid": "klue-sts-v1_dev_00001",
            "sentence1": "해가 뜬다.",
            "sentence2": "점수가 없다.",
            "labels": {"label": 9.0, "real-label": 9.0, "binary-label": 1},
        },
    ]
    path = tmp_path / "klue-sts-v1.1_dev.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=4), encoding="utf-8")
    second_item_line = 12  # "[" and 10 lines of the first item come before it

    result = parse_file(path, "klue-sts-json", "sts", display_name="d.json")

    assert result.table["score"].tolist() == [4.5]
    assert result.bad_rows == [
        BadRow("d.json", second_item_line, "labels.label=9.0 is outside 0-5")
    ]


def test_klue_sts_bad_items_named(tmp_path):
    path = write(
        tmp_path / "klue-sts-v1.1_dev.json",
        [
            "[",
            "  " + klue_sts_item(0, "비가 온다.", "비가 내린다.", 4.2) + ",",  # line 2
            '  "항목이 객체가 아니다",',  # line 3
            "  [1, 2],",  # line 4
            '  {"guid": "klue-sts-v1_dev_00003", "sentence1": "a", '
            '"sentence2": "b"},',  # line 5
            "  " + klue_sts_item(4, "비가 온다.", "", 3.0) + ",",  # line 6
            "  " + klue_sts_item(5, "비가 온다.", "해가 뜬다.", 0.0),  # line 7
            "]",
        ],
    )

    result = parse_file(path, "klue-sts-json", "sts", display_name="d.json")

    assert result.table["score"].tolist() == [4.2, 0.0]
    assert result.bad_rows == [
        BadRow("d.json", 3, "expected a JSON object, found str"),
        BadRow("d.json", 4, "expected a JSON object, found list"),
        BadRow("d.json", 5, "'labels' is missing"),
        BadRow("d.json", 6, "sentence2 is empty or not text"),
    ]
    assert result.rows_read == 6


def test_klue_nli_valid_items(tmp_path):
    path = write(
        tmp_path / "klue-nli-v1.1_dev.json",
        [
            "[",
            "  "
            + klue_nli_item(
                0,
                "흡연자분들은 발코니가 있는 방이면 좋겠습니다.",
                "흡연자분들은 발코니가 있는 방을 싫어합니다.",
                "contradiction",
            )
            + ",",
            "  "
            + klue_nli_item(
                1,
                "10명이 함께 사용하기 좋은 방입니다.",
                "방은 여럿이 쓰기 좋습니다.",
                "entailment",
            )
            + ",",
            "  "
            + klue_nli_item(2, "시설이 깨끗합니다.", "직원이 친절합니다.", "neutral"),
            "]",
        ],
        final_newline=False,
    )

    result = parse_file(path, "klue-nli-json", "pair-classification")

    assert result.table["premise"].tolist() == [
        "흡연자분들은 발코니가 있는 방이면 좋겠습니다.",
        "10명이 함께 사용하기 좋은 방입니다.",
        "시설이 깨끗합니다.",
    ]
    assert (
        result.table["hypothesis"].iloc[0]
        == "흡연자분들은 발코니가 있는 방을 싫어합니다."
    )
    assert result.table["label"].tolist() == ["contradiction", "entailment", "neutral"]


def test_klue_nli_bad_items_named(tmp_path):
    path = write(
        tmp_path / "klue-nli-v1.1_dev.json",
        [
            "[",
            "  " + klue_nli_item(0, "비가 온다.", "땅이 젖는다.", "entailment") + ",",
            "  " + klue_nli_item(1, "비가 온다.", "땅이 젖는다.", "모순") + ",",
            '  {"premise": "비가 온다.", "gold_label": "neutral"},',
            "  42",
            "]",
        ],
    )

    result = parse_file(path, "klue-nli-json", "pair-classification", display_name="n")

    assert result.table["label"].tolist() == ["entailment"]
    assert result.bad_rows == [
        BadRow(
            "n", 3, "gold_label='모순' is not one of entailment, neutral, contradiction"
        ),
        BadRow("n", 4, "hypothesis is empty or not text"),
        BadRow("n", 5, "expected a JSON object, found int"),
    ]


def test_json_list_damaged_raises(tmp_path):
    path = write(
        tmp_path / "klue-nli-v1.1_dev.json",
        [
            "[",
            "  " + klue_nli_item(0, "비가 온다.", "땅이 젖는다.", "entailment") + ",",
            '  {"premise": "비가 온다.",',
            '   "hypothesis": "땅이 젖',
        ],
    )

    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}:4: invalid JSON"
    ) as info:
        parse_file(path, "klue-nli-json", "pair-classification")

    assert "fetch it again" in str(info.value)


def test_json_list_not_a_list_raises(tmp_path):
    path = tmp_path / "klue-sts-v1.1_dev.json"
    path.write_text("<html>404: Not Found</html>", encoding="utf-8")

    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}:1: expected a JSON list"
    ):
        parse_file(path, "klue-sts-json", "sts")


def test_json_list_missing_bracket_raises(tmp_path):
    path = write(
        tmp_path / "klue-nli-v1.1_dev.json",
        [
            "[",
            "  " + klue_nli_item(0, "비가 온다.", "땅이 젖는다.", "entailment") + ",",
            "  " + klue_nli_item(1, "해가 뜬다.", "밤이다.", "contradiction") + ",",
        ],
    )

    with pytest.raises(ValueError, match=re.escape(str(path))):
        parse_file(path, "klue-nli-json", "pair-classification")


# Format and task checks


def test_format_unknown_raises(tmp_path):
    path = write(tmp_path / "data.parquet", ["x"])

    with pytest.raises(ValueError, match="unknown format 'parquet'"):
        parse_file(path, "parquet", "sts")


def test_format_task_mismatch_raises(tmp_path):
    path = write(tmp_path / "sts-test.tsv", [KORSTS_HEADER])

    with pytest.raises(ValueError, match="format 'korsts-tsv' is for sts data, not"):
        parse_file(path, "korsts-tsv", "classification")


# Generic csv, tsv and jsonl


def test_csv_quoted_comma_and_newline(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(
        "문장1,문장2,점수\n"  # line 1
        '"안녕, 세상",안녕하세요,4.5\n'  # line 2
        '"첫째 줄\n둘째 줄",두 줄짜리 문장,2\n'  # lines 3-4
        "세 칸이 아니다,3.0\n"  # line 5
        '"따옴표 ""안"" 문장",비교 문장,7\n'  # line 6
        "점수,없음,높음",  # line 7, no final newline
        encoding="utf-8",
    )
    columns = {"sentence1": "문장1", "sentence2": "문장2", "score": "점수"}

    result = parse_file(path, "csv", "sts", columns, display_name="mine.csv")

    assert result.table["sentence1"].tolist() == [
        "안녕, 세상",
        "첫째 줄\n둘째 줄",
        '따옴표 "안" 문장',
    ]
    assert result.table["sentence2"].tolist() == [
        "안녕하세요",
        "두 줄짜리 문장",
        "비교 문장",
    ]
    # Generic formats check that a score is a finite number, not its range.
    assert result.table["score"].tolist() == [4.5, 2.0, 7.0]
    assert result.bad_rows == [
        BadRow("mine.csv", 5, "expected 3 comma-separated fields, found 2"),
        BadRow("mine.csv", 7, "점수='높음' is not a number"),
    ]


def test_csv_default_columns(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text(
        "text,label,extra\n재미있다,pos,무시\n\n지루하다,neg,무시\n", encoding="utf-8"
    )

    result = parse_file(path, "csv", "classification")

    assert list(result.table.columns) == ["text", "label"]
    assert result.table["text"].tolist() == ["재미있다", "지루하다"]
    assert result.table["label"].tolist() == ["pos", "neg"]
    assert result.bad_rows == []


def test_csv_missing_column_reported(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review,label\n재미있다,1\n", encoding="utf-8")

    result = parse_file(
        path, "csv", "classification", {"text": "document", "label": "label"}, "r"
    )

    assert result.bad_rows == [
        BadRow("r", 2, "column 'document' (for text) is missing")
    ]


def test_tsv_column_mapping(tmp_path):
    path = write(
        tmp_path / "pairs.tsv",
        [
            "전제\t가설\t정답",
            '"인용" 문장이다.\t인용이 있다.\t1',
            "비가 온다.\t해가 뜬다.\t0",
            "필드가\t모자라다",
        ],
        final_newline=False,
    )
    columns = {"premise": "전제", "hypothesis": "가설", "label": "정답"}

    result = parse_file(path, "tsv", "pair-classification", columns, "p")

    assert result.table["premise"].tolist() == ['"인용" 문장이다.', "비가 온다."]
    assert result.table["label"].tolist() == ["1", "0"]
    assert result.bad_rows == [
        BadRow("p", 4, "expected 3 tab-separated fields, found 2")
    ]


def test_jsonl_rows_and_bad_lines(tmp_path):
    path = write(
        tmp_path / "reviews.jsonl",
        [
            json.dumps({"review": "최고의 영화", "stars": 1}, ensure_ascii=False),
            "",  # line 2: skipped
            '{"review": "잘림", "stars":',  # line 3
            '["목록", 0]',  # line 4
            json.dumps({"review": "  ", "stars": 0}, ensure_ascii=False),  # line 5
            json.dumps({"review": "별로다", "stars": 0.0}, ensure_ascii=False),
            json.dumps({"review": "라벨 없음", "stars": None}, ensure_ascii=False),
        ],
        final_newline=False,
    )
    columns = {"text": "review", "label": "stars"}

    result = parse_file(path, "jsonl", "classification", columns, "r.jsonl")

    assert result.table["text"].tolist() == ["최고의 영화", "별로다"]
    # Whole-number labels read as the same string, whether int or float in JSON.
    assert result.table["label"].tolist() == ["1", "0"]
    assert [(b.line, b.reason) for b in result.bad_rows] == [
        (3, "invalid JSON: Expecting value"),
        (4, "expected a JSON object, found list"),
        (5, "review is empty or not text"),
        (7, "stars is empty"),
    ]
    assert result.rows_read == 6
