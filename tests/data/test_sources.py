"""Readers: one RawRow per line/folder/item, deterministic order, never an exception on bad content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testkit import SHARED_DATA  # $APPSPLUS_DATA_DIR or ../shared/data

from appsplus.schema import RawRow, RejectReason
from appsplus.sources import SourceError, SourceUnavailable, loads_json, open_source
from appsplus.sources.hub import HubSource
from appsplus.sources.local import AppsTreeSource, RowFilesSource, split_from_name
from appsplus.sources.sample import SampleSource, sample_bytes
from appsplus.sources.stepcoder import StepCoderSource

needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"real data folder {SHARED_DATA} is absent (fresh clone; set APPSPLUS_DATA_DIR)",
)

GOOD_ROW = {
    "problem_id": 7,
    "question": "Print the sum of two integers.",
    "solutions": json.dumps(["print(sum(map(int, input().split())))\n"]),
    "input_output": json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]}),
    "difficulty": "interview",
    "url": "",
    "starter_code": "",
}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_problem_dir(folder: Path, *, metadata: bool = True, question: bytes | None = None) -> None:
    folder.mkdir(parents=True)
    (folder / "question.txt").write_bytes(question or b"Print the sum.\n")
    (folder / "solutions.json").write_text(json.dumps(["print(1)\n"]))
    (folder / "input_output.json").write_text(json.dumps({"inputs": ["\n"], "outputs": ["1\n"]}))
    if metadata:
        (folder / "metadata.json").write_text(json.dumps({"difficulty": "interview", "url": "u"}))


# ---------------------------------------------------------------- the embedded sample


def test_sample_yields_one_row_per_line_in_order():
    lines = sample_bytes().splitlines()
    rows = list(open_source("sample").iter_rows())
    assert len(rows) == len(lines) == 43
    assert [r.locator for r in rows] == [f"apps_sample.jsonl:{i}" for i in range(1, 44)]
    assert [r.ordinal for r in rows] == list(range(43))
    assert all(r.source == "sample" and r.format == "apps_row" and r.split is None for r in rows)


def test_sample_unparseable_lines_become_error_rows():
    rows = list(SampleSource().iter_rows())
    errors = {int(r.locator.split(":")[1]): r.error_reason for r in rows if r.raw is None}
    assert errors == {
        9: RejectReason.MALFORMED_ROW,
        21: RejectReason.INVALID_ENCODING,
        33: RejectReason.MALFORMED_ROW,
    }
    assert all(r.raw_error for r in rows if r.raw is None)


def test_sample_is_deterministic_and_has_a_content_revision():
    a, b = SampleSource(), SampleSource()
    assert a.revision == b.revision and a.revision.startswith("sha256:")
    assert list(a.iter_rows()) == list(b.iter_rows())


# ---------------------------------------------------------------- jsonl and parquet files


def test_jsonl_bad_lines_never_raise_and_never_vanish(tmp_path):
    path = tmp_path / "rows.jsonl"
    good = json.dumps(GOOD_ROW).encode()
    lines = [
        b"\xef\xbb\xbf" + good + b"\r\n",  # BOM and a CRLF line end
        b"{not json\n",
        b"[1, 2]\n",
        b"\n",  # blank: not a row
        b'{"question": "caf\xe9"}\n',  # a latin-1 byte
        b'"just a string"\n',
        b"[" * 5000 + b"\n",  # nesting beyond the recursion limit
        good,  # last line without a newline
    ]
    path.write_bytes(b"".join(lines))
    rows = list(open_source(str(path)).iter_rows())
    assert [r.locator for r in rows] == [f"rows.jsonl:{i}" for i in (1, 2, 3, 5, 6, 7, 8)]
    assert rows[0].raw == GOOD_ROW and rows[-1].raw == GOOD_ROW
    assert [r.error_reason for r in rows[1:-1]] == [
        RejectReason.MALFORMED_ROW,
        RejectReason.MALFORMED_ROW,
        RejectReason.INVALID_ENCODING,
        RejectReason.MALFORMED_ROW,
        RejectReason.MALFORMED_ROW,
    ]


def test_loads_json_accepts_huge_integers():
    value = 10**6000 - 1  # 6000 nines: int(str) refuses more than 4300 digits by default
    digits = "9" * 6000
    assert loads_json(f"[{digits}, -{digits}]") == [value, -value]


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("train.jsonl", "train"),
        ("test.jsonl", "test"),
        ("train-00000-of-00001.parquet", "train"),
        ("TEST_part.jsonl", "test"),
        ("apps_rows.jsonl", None),
        ("pretrain.jsonl", None),
    ],
)
def test_split_from_file_name(name, split):
    assert split_from_name(name) == split


def test_folder_with_train_and_test_jsonl(tmp_path):
    write_jsonl(tmp_path / "test.jsonl", [GOOD_ROW])
    write_jsonl(tmp_path / "train.jsonl", [GOOD_ROW, GOOD_ROW])
    source = open_source(str(tmp_path))
    assert isinstance(source, RowFilesSource)
    rows = list(source.iter_rows())
    assert [(r.locator, r.split) for r in rows] == [
        ("train.jsonl:1", "train"),
        ("train.jsonl:2", "train"),
        ("test.jsonl:1", "test"),
    ]
    assert source.revision.startswith("sha256:")


def test_parquet_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [dict(GOOD_ROW, problem_id=i) for i in range(130)]  # more than one batch
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    source = open_source(str(tmp_path / "train.parquet"))
    got = list(source.iter_rows())
    assert [r.raw for r in got] == rows
    assert got[0].locator == "train.parquet:1" and got[0].split == "train"


def test_unreadable_parquet_is_a_source_error(tmp_path):
    (tmp_path / "train.parquet").write_bytes(b"not parquet")
    with pytest.raises(SourceError, match="parquet"):
        list(open_source(str(tmp_path / "train.parquet")).iter_rows())


def test_revision_changes_with_content(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD_ROW])
    before = open_source(str(path)).revision
    write_jsonl(path, [dict(GOOD_ROW, problem_id=8)])
    assert open_source(str(path)).revision != before


# ---------------------------------------------------------------- APPS folder tree


def test_apps_tree_records_files_as_they_are(tmp_path):
    make_problem_dir(tmp_path / "train" / "0002")
    make_problem_dir(tmp_path / "train" / "0001")
    make_problem_dir(tmp_path / "test" / "0005", metadata=False)
    source = open_source(str(tmp_path))
    assert isinstance(source, AppsTreeSource)
    rows = list(source.iter_rows())
    assert [r.locator for r in rows] == ["train/0001", "train/0002", "test/0005"]
    assert [r.split for r in rows] == ["train", "train", "test"]
    test_row = rows[2].raw
    assert test_row is not None
    assert test_row["problem_dir"] == "0005"
    assert test_row["metadata"] is None and test_row["starter_code"] is None
    assert test_row["question"] == "Print the sum.\n"
    assert test_row["files"] == ["input_output.json", "question.txt", "solutions.json"]


def test_apps_tree_bad_encoding_is_an_error_row(tmp_path):
    make_problem_dir(tmp_path / "train" / "0001", question=b"caf\xe9\n")
    (row,) = open_source(str(tmp_path)).iter_rows()
    assert row.raw is None and row.error_reason is RejectReason.INVALID_ENCODING
    assert "question.txt" in (row.raw_error or "")


def test_single_split_folder(tmp_path):
    make_problem_dir(tmp_path / "test" / "0003", metadata=False)
    rows = list(open_source(str(tmp_path / "test")).iter_rows())
    assert [(r.locator, r.split) for r in rows] == [("test/0003", "test")]


def test_tree_revision_tracks_file_content(tmp_path):
    make_problem_dir(tmp_path / "train" / "0001")
    before = open_source(str(tmp_path)).revision
    (tmp_path / "train" / "0001" / "question.txt").write_text("changed")
    assert open_source(str(tmp_path)).revision != before


# ---------------------------------------------------------------- dispatcher errors


def test_open_source_errors(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(str(tmp_path / "missing"))
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(SourceError, match="stepcoder:PATH"):
        open_source(str(tmp_path / "x.json"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="--source sample"):
        open_source(str(tmp_path / "empty"))


# ---------------------------------------------------------------- the hub source


def fake_hub(tmp_path: Path, commit: str = "a" * 40):
    """A fetch function serving local files laid out like the HF cache."""
    snapshot = tmp_path / "snapshots" / commit
    snapshot.mkdir(parents=True)
    write_jsonl(snapshot / "train.jsonl", [GOOD_ROW, dict(GOOD_ROW, problem_id=8)])
    write_jsonl(snapshot / "test.jsonl", [dict(GOOD_ROW, problem_id=4000)])
    calls = []

    def fetch(repo_id: str, filename: str, revision: str) -> Path:
        calls.append((repo_id, filename, revision))
        return snapshot / filename

    return fetch, calls


def test_hub_source_reads_train_then_test_with_an_injected_fetch(tmp_path):
    fetch, calls = fake_hub(tmp_path)
    source = HubSource(revision="main", fetch=fetch)
    assert source.revision == "main"  # nothing fetched yet
    rows = list(source.iter_rows())
    assert calls == [
        ("codeparrot/apps", "train.jsonl", "main"),
        ("codeparrot/apps", "test.jsonl", "main"),
    ]
    assert [(r.locator, r.split) for r in rows] == [
        ("train.jsonl:1", "train"),
        ("train.jsonl:2", "train"),
        ("test.jsonl:1", "test"),
    ]
    assert source.revision == "a" * 40  # the commit actually read
    assert all(r.source == "hf:codeparrot/apps" for r in rows)


def test_hub_source_spec_and_revision():
    source = open_source("apps@0123abc")
    assert isinstance(source, HubSource) and source.revision == "0123abc"


def test_hub_unavailable_names_the_alternatives(monkeypatch):
    hf = pytest.importorskip("huggingface_hub")
    import appsplus.sources.hub as hub

    monkeypatch.setattr(hf, "try_to_load_from_cache", lambda *a, **k: None)
    monkeypatch.setattr(hub, "_hub_reachable", lambda *a, **k: False)
    source = open_source("apps")
    with pytest.raises(SourceUnavailable) as info:
        list(source.iter_rows())
    message = str(info.value)
    assert "--source PATH" in message and "--source sample" in message


def test_hub_fetch_errors_propagate_from_prepare():
    def offline(repo_id: str, filename: str, revision: str) -> Path:
        raise SourceUnavailable("offline")

    with pytest.raises(SourceUnavailable):
        HubSource(fetch=offline).prepare()


# ---------------------------------------------------------------- StepCoder files


def test_stepcoder_items_get_index_locators(tmp_path):
    path = tmp_path / "apps_plus.json"
    path.write_text(json.dumps([{"prompt": "a"}, [1], {"prompt": "b"}]))
    source = open_source(f"stepcoder:{path}")
    assert isinstance(source, StepCoderSource) and source.split == "train"
    rows = list(source.iter_rows())
    assert [(r.locator, r.ordinal) for r in rows] == [
        ("apps_plus.json:0", 0),
        ("apps_plus.json:1", 1),
        ("apps_plus.json:2", 2),
    ]
    assert rows[1].raw is None and rows[1].error_reason is RejectReason.MALFORMED_ROW
    assert all(r.format == "stepcoder" for r in rows)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"not": "a list"}', RejectReason.MALFORMED_ROW),
        (b"[{", RejectReason.MALFORMED_ROW),
        (b'[{"prompt": "\xff"}]', RejectReason.INVALID_ENCODING),
    ],
)
def test_stepcoder_unreadable_file_is_one_error_row(tmp_path, content, reason):
    path = tmp_path / "apps_plus_test.json"
    path.write_bytes(content)
    (row,) = StepCoderSource(path).iter_rows()
    assert row.raw is None and row.error_reason is reason and row.split == "test"


def test_stepcoder_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "apps_plus.jsonl", [{"prompt": "a"}, {"prompt": "b"}])
    rows = list(StepCoderSource(path).iter_rows())
    assert [(r.locator, r.ordinal, r.format) for r in rows] == [
        ("apps_plus.jsonl:1", 0, "stepcoder"),
        ("apps_plus.jsonl:2", 1, "stepcoder"),
    ]


def test_raw_row_requires_exactly_one_of_raw_and_error():
    with pytest.raises(ValueError):
        RawRow(source="s", format="apps_row", locator="l", ordinal=0)
    with pytest.raises(ValueError):
        RawRow(source="s", format="apps_row", locator="l", ordinal=0, raw={}, raw_error="x")
    row = RawRow(source="s", format="apps_row", locator="l", ordinal=0, raw_error="x")
    assert row.error_reason is RejectReason.MALFORMED_ROW


# ---------------------------------------------------------------- real data


@needs_shared
def test_real_apps_tree():
    rows = list(open_source(str(SHARED_DATA / "apps" / "raw")).iter_rows())
    assert [r.locator for r in rows] == [
        "train/0001",
        "train/0111",
        "train/2287",
        "train/2404",
        "train/4184",
        "test/0087",
        "test/0108",
        "test/0257",
        "test/0283",
        "test/0300",
    ]
    assert all(r.raw is not None for r in rows)
    assert [r.raw["metadata"] is None for r in rows if r.raw] == [False] * 5 + [True] * 5


@needs_shared
def test_real_jsonl_and_stepcoder_row_counts():
    path = SHARED_DATA / "apps" / "apps_rows.jsonl"
    n_lines = len(path.read_bytes().splitlines())
    rows = list(open_source(str(path)).iter_rows())
    assert len(rows) == n_lines == 306 and all(r.raw is not None for r in rows)
    stepcoder = SHARED_DATA / "apps-plus" / "stepcoder_apps_plus_sample.json"
    items = list(open_source(f"stepcoder:{stepcoder}").iter_rows())
    assert len(items) == 300 and all(r.raw is not None for r in items)
