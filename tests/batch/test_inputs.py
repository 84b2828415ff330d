"""Input expansion: files, folders, globs, CSV/JSONL manifests, and clear errors with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer._errors import ConfigError
from analyzer.batch.inputs import ManifestError, expand_inputs


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    root = tmp_path / "calls"
    (root / "q3" / "deep").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for rel in ("a.txt", "b.vtt", "q3/c.json", "q3/deep/d.srt", "q3/notes.pdf", ".hidden/e.txt", "q3/.f.txt"):
        (root / rel).write_text("Ann: hello")
    return root


def test_folder_is_walked_recursively_for_transcript_extensions(calls: Path) -> None:
    items = expand_inputs([str(calls)], cwd=calls.parent, seller=["Ann"])
    assert [i.id for i in items] == ["calls/a.txt", "calls/b.vtt", "calls/q3/c.json", "calls/q3/deep/d.srt"]
    assert all(i.seller == ("Ann",) for i in items)


def test_files_globs_and_dedupe(calls: Path) -> None:
    items = expand_inputs(["calls/a.txt", "calls/**/*.json", "calls/*.txt", "calls/q3/notes.pdf"], cwd=calls.parent)
    # a.txt named twice is analyzed once; an explicit file is taken whatever its extension.
    assert [i.id for i in items] == ["calls/a.txt", "calls/q3/c.json", "calls/q3/notes.pdf"]


def test_missing_inputs_are_clear(calls: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.txt: no such file or folder"):
        expand_inputs(["nope.txt"], cwd=calls.parent)
    with pytest.raises(ConfigError, match="no file matches"):
        expand_inputs(["calls/*.docx"], cwd=calls.parent)
    empty = calls.parent / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no transcript files"):
        expand_inputs([str(empty)])


def test_csv_manifest_paths_relative_to_manifest(calls: Path, tmp_path: Path) -> None:
    manifest = calls / "manifest.csv"
    manifest.write_text(
        "path,seller,seller_domain,account_id\na.txt,Jordan Ellis; Sam Lee,acme.io,ACME-1\n\nq3/c.json,,,ACME-2\n"
    )
    items = expand_inputs([str(manifest)], cwd=tmp_path, seller=["Default Rep"])
    assert [(i.id, i.seller, i.seller_domain, i.account_id) for i in items] == [
        ("calls/a.txt", ("Jordan Ellis", "Sam Lee"), "acme.io", "ACME-1"),
        ("calls/q3/c.json", ("Default Rep",), None, "ACME-2"),
    ]
    assert items[1].origin == "manifest.csv, line 4"


def test_jsonl_manifest_with_ids(calls: Path) -> None:
    manifest = calls / "m.jsonl"
    manifest.write_text('{"path": "a.txt", "seller": ["Ann"], "id": "call-1"}\n\n{"path": "b.vtt", "account_id": 77}\n')
    items = expand_inputs([str(manifest)], cwd=calls)
    assert [(i.id, i.seller, i.account_id) for i in items] == [("call-1", ("Ann",), None), ("b.vtt", (), "77")]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "path,seller\na.txt,Ann\nmissing.txt,Bob\n", r"m\.csv, line 3: transcript 'missing\.txt' not found"),
        ("m.csv", "file,seller\na.txt,Ann\n", r"m\.csv, line 1: the header has no 'path' column"),
        ("m.csv", "path,colour\na.txt,red\n", r"m\.csv, line 2: unknown column\(s\) colour"),
        ("m.csv", "path\na.txt,extra\n", r"m\.csv, line 2: more fields than the 1 header columns"),
        ("m.csv", "path,seller\n,Ann\n", r"m\.csv, line 2: missing 'path'"),
        ("m.csv", "", r"m\.csv: the manifest is empty"),
        ("m.jsonl", '{"path": "a.txt"}\n{"path": "b.vtt",\n', r"m\.jsonl, line 2: not valid JSON"),
        ("m.jsonl", '["a.txt"]\n', r"m\.jsonl, line 1: expected a JSON object"),
        ("m.jsonl", '{"path": "a.txt", "seller": 3}\n', r"m\.jsonl, line 1: 'seller' must be"),
        ("m.jsonl", '{"path": "a.txt", "id": "x"}\n{"path": "b.vtt", "id": "x"}\n', r"line 2: id 'x' is already used"),
    ],
)
def test_manifest_errors_name_the_line(calls: Path, name: str, text: str, message: str) -> None:
    manifest = calls / name
    manifest.write_text(text)
    with pytest.raises(ManifestError, match=message):
        expand_inputs([str(manifest)])


@pytest.mark.parametrize("row", ["../../../../etc/passwd", "/etc/hostname", "../outside.txt", "link-out.txt"])
def test_manifest_paths_outside_its_folder_are_refused(tmp_path: Path, row: str) -> None:
    box = tmp_path / "box"
    box.mkdir()
    (tmp_path / "outside.txt").write_text("Ann: hello")
    (box / "link-out.txt").symlink_to(tmp_path / "outside.txt")
    manifest = box / "m.csv"
    manifest.write_text(f"path\n{row}\n")
    with pytest.raises(ManifestError, match=r"m\.csv, line 2: .*outside the manifest's folder.*--allow-outside"):
        expand_inputs([str(manifest)], cwd=tmp_path)


def test_allow_outside_reads_them(tmp_path: Path) -> None:
    box = tmp_path / "box"
    box.mkdir()
    (tmp_path / "outside.txt").write_text("Ann: hello")
    manifest = box / "m.jsonl"
    manifest.write_text('{"path": "../outside.txt"}\n')
    (item,) = expand_inputs([str(manifest)], cwd=tmp_path, allow_outside=True)
    assert item.path.resolve() == (tmp_path / "outside.txt").resolve()


def test_symlink_loops_in_a_folder_do_not_abort_the_walk(calls: Path) -> None:
    (calls / "loop.txt").symlink_to(calls / "loop.txt")
    (calls / "q3" / "up").symlink_to(calls, target_is_directory=True)  # a folder loop
    items = expand_inputs([str(calls)], cwd=calls.parent)
    ids = [i.id for i in items]
    assert "calls/a.txt" in ids and "calls/q3/c.json" in ids
    # The looping file stays an item: it fails on its own with a sentence, it does not stop the batch.
    assert any(i.endswith("loop.txt") for i in ids)
    assert not any("/up/" in i for i in ids)


def test_a_fifo_in_a_batch_folder_fails_its_item_instead_of_blocking(tmp_path: Path) -> None:
    import json
    import os

    from click.testing import CliRunner

    from analyzer.cli import cli

    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "good.txt").write_text("Ann Seller: Hello Bob.\nBob Buyer: Our budget is frozen until March.\n")
    os.mkfifo(calls / "pipe.txt")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["batch", str(calls), "--out", str(out), "--backend", "keywords"])
    assert res.exit_code == 1, res.output
    records = {r["id"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert records["calls/good.txt"]["status"] == "ok"
    bad = records["calls/pipe.txt"]
    assert bad["status"] == "error" and "pipe.txt" in bad["error"] and "\n" not in bad["error"]
