"""What a batch analyzes: files, folders, globs and manifests expanded into a list of ``BatchItem``.

A manifest is a ``.csv`` (header row) or ``.jsonl`` file, one transcript per row/line:

    path,seller,seller_domain,account_id,date,id
    calls/acme-q3.vtt,Jordan Ellis;Sam Lee,brightline.io,ACME-001,2026-03-02,

- ``path`` (required): relative to the manifest's folder unless absolute; a path that leads outside that
  folder (``../``, an absolute path, or a symlink pointing out) is refused unless ``--allow-outside`` is
  given, so a manifest received from someone else cannot make the batch read, say, ``/etc/passwd``;
- ``seller``: names on the selling side; in CSV separated by ``;``, in JSONL a list or a string;
- ``seller_domain``, ``account_id``: optional hints and labels carried into the results;
- ``date``: the call's date (ISO ``YYYY-MM-DD``), which orders an account's calls (``walkaway account``);
- ``id``: optional stable id for the results (default: the path as written).

Mistakes name the manifest and the line (``manifest.csv, line 7: ...``) and stop the batch before any
work starts, since a typo in row 7 of 3,000 should not surface an hour in.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analyzer._errors import ConfigError

TRANSCRIPT_EXTENSIONS = frozenset({".txt", ".md", ".markdown", ".vtt", ".srt", ".json", ".docx"})
"""File extensions a folder walk picks up (a file named explicitly is taken whatever its extension)."""

MANIFEST_EXTENSIONS = frozenset({".csv", ".jsonl"})
_MANIFEST_COLUMNS = {"path", "seller", "seller_domain", "account_id", "date", "id"}


class ManifestError(ConfigError):
    """A manifest row is wrong: names the manifest file and the line."""

    def __init__(self, message: str, *, path: Path, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}, line {line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


@dataclass(frozen=True)
class BatchItem:
    """One transcript to analyze, with the hints that change its result."""

    id: str
    """Stable label in results.jsonl and summary.csv, unique within the batch."""
    path: Path
    seller: tuple[str, ...] = ()
    seller_domain: str | None = None
    account_id: str | None = None
    date: str | None = None
    """The call's date, ISO ``YYYY-MM-DD`` (validated when read)."""
    origin: str = field(default="", compare=False)
    """Where the item came from, for messages: an argument, or 'manifest.csv, line 7'."""


def expand_inputs(
    inputs: Sequence[str],
    *,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
    cwd: Path | None = None,
    allow_outside: bool = False,
) -> list[BatchItem]:
    """Expand command-line inputs into items in a stable order, duplicates removed.

    ``seller``/``seller_domain`` apply to every item that has none of its own (manifests may set them per
    row). Raises ``ConfigError`` for an input that matches nothing and ``ManifestError`` for a bad row,
    including a manifest path outside the manifest's folder unless ``allow_outside``.
    """
    base = cwd or Path.cwd()
    items: list[BatchItem] = []
    for raw in inputs:
        candidate = Path(raw).expanduser()
        if not candidate.is_absolute():
            candidate = base / candidate
        if candidate.is_dir():
            files = _walk(candidate)
            if not files:
                raise ConfigError(f"{raw}: the folder holds no transcript files ({_ext_list()})")
            items += [_item(f, base, candidate.parent, seller, seller_domain, origin=raw) for f in files]
        elif candidate.is_file() and candidate.suffix.lower() in MANIFEST_EXTENSIONS:
            items += read_manifest(
                candidate, seller=seller, seller_domain=seller_domain, base=base, allow_outside=allow_outside
            )
        elif candidate.is_file():
            items.append(_item(candidate, base, candidate.parent, seller, seller_domain, origin=raw))
        elif glob.has_magic(raw):
            pattern = raw if Path(raw).is_absolute() else str(base / raw)
            matches = sorted(Path(m) for m in glob.glob(pattern, recursive=True))
            files = [m for m in matches if m.is_file()]
            for d in (m for m in matches if m.is_dir()):
                files += _walk(d)
            if not files:
                raise ConfigError(f"{raw}: no file matches this pattern")
            root = Path(pattern.split("*")[0].split("?")[0].split("[")[0]).parent
            items += [_item(f, base, root, seller, seller_domain, origin=raw) for f in files]
        else:
            raise ConfigError(f"{raw}: no such file or folder")
    return _dedupe(items)


def read_manifest(
    manifest: Path,
    *,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
    base: Path | None = None,
    allow_outside: bool = False,
) -> list[BatchItem]:
    """Items listed in a CSV or JSONL manifest (see the module docstring for the columns)."""
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read the manifest ({exc})", path=manifest) from None
    rows = _jsonl_rows(text, manifest) if manifest.suffix.lower() == ".jsonl" else _csv_rows(text, manifest)
    folder = manifest.parent
    items: list[BatchItem] = []
    for line, row in rows:
        unknown = set(row) - _MANIFEST_COLUMNS
        if unknown:
            raise ManifestError(
                f"unknown column(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(_MANIFEST_COLUMNS))}",
                path=manifest,
                line=line,
            )
        raw_path = row.get("path")
        if not isinstance(raw_path, str) or not raw_path.strip():
            raise ManifestError(
                "missing 'path' (the transcript file, relative to the manifest)", path=manifest, line=line
            )
        target = Path(raw_path.strip()).expanduser()
        if not target.is_absolute():
            target = folder / target
        if not allow_outside and not _inside(target, folder):
            raise ManifestError(
                f"transcript {raw_path.strip()!r} is outside the manifest's folder {folder}; "
                "move it there or pass --allow-outside",
                path=manifest,
                line=line,
            )
        if not target.is_file():
            raise ManifestError(
                f"transcript {raw_path.strip()!r} not found (looked for {target})", path=manifest, line=line
            )
        names = _seller_names(row.get("seller"), manifest, line) or tuple(seller)
        domain = _opt_str(row.get("seller_domain"), "seller_domain", manifest, line) or seller_domain
        account = _opt_str(row.get("account_id"), "account_id", manifest, line)
        explicit_id = _opt_str(row.get("id"), "id", manifest, line)
        date = _opt_str(row.get("date"), "date", manifest, line)
        if date is not None:
            try:
                date = dt.date.fromisoformat(date).isoformat()
            except ValueError:
                raise ManifestError(f"date {date!r} is not a date like 2026-03-02", path=manifest, line=line) from None
        items.append(
            BatchItem(
                id=explicit_id or _label(target, base or Path.cwd(), folder),
                path=target,
                seller=names,
                seller_domain=domain,
                account_id=account,
                date=date,
                origin=f"{manifest.name}, line {line}",
            )
        )
    if not items:
        raise ManifestError("the manifest lists no transcripts", path=manifest)
    seen: dict[str, str] = {}
    for item in items:
        if item.id in seen and item.origin != seen[item.id]:
            line_no = int(item.origin.rsplit(" ", 1)[-1])
            raise ManifestError(f"id {item.id!r} is already used at {seen[item.id]}", path=manifest, line=line_no)
        seen[item.id] = item.origin
    return items


def _csv_rows(text: str, manifest: Path) -> list[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise ManifestError("the manifest is empty; expected a header row with at least 'path'", path=manifest)
    header = [h.strip().lower() for h in reader.fieldnames]
    if "path" not in header:
        raise ManifestError(f"the header has no 'path' column (found: {', '.join(header)})", path=manifest, line=1)
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, object]]] = []
    for record in reader:
        line = reader.line_num
        if None in record:
            raise ManifestError(f"more fields than the {len(header)} header columns", path=manifest, line=line)
        values = {k: (v or "").strip() for k, v in record.items()}
        if not any(values.values()):
            continue  # blank lines are harmless
        rows.append((line, {k: v for k, v in values.items() if v}))
    return rows


def _jsonl_rows(text: str, manifest: Path) -> list[tuple[int, dict[str, object]]]:
    rows: list[tuple[int, dict[str, object]]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"not valid JSON ({exc.msg}, column {exc.colno})", path=manifest, line=line) from None
        if not isinstance(obj, dict):
            raise ManifestError("expected a JSON object with at least 'path'", path=manifest, line=line)
        rows.append((line, {k: v for k, v in obj.items() if v is not None}))
    return rows


def _seller_names(value: object, manifest: Path, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(n.strip() for n in value.replace("|", ";").split(";") if n.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise ManifestError("'seller' must be a name, names separated by ';', or a list of names", path=manifest, line=line)


def _opt_str(value: object, name: str, manifest: Path, line: int) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str | int):
        return str(value).strip() or None
    raise ManifestError(f"{name!r} must be a string", path=manifest, line=line)


def _safe_resolve(path: Path) -> Path:
    """``Path.resolve`` that survives symlink loops (they fail later, as that item's own error)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _inside(target: Path, folder: Path) -> bool:
    return _safe_resolve(target).is_relative_to(_safe_resolve(folder))


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    # followlinks=False (the default): a symlinked folder, or a loop of them, is not descended into.
    for root, dirs, files in os.walk(folder):
        # Hidden folders (.git, .venv) never hold the calls someone meant to analyze.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            p = Path(root) / name
            if not name.startswith(".") and p.suffix.lower() in TRANSCRIPT_EXTENSIONS:
                found.append(p)
    return found


def _label(path: Path, base: Path, root: Path) -> str:
    """The path relative to the working folder when it is inside it, else relative to the input's root
    (the folder named, the manifest's folder), so ids stay short and stable across machines."""
    resolved = _safe_resolve(path)
    for anchor in (base, root):
        try:
            return resolved.relative_to(_safe_resolve(anchor)).as_posix()
        except ValueError:
            continue
    return resolved.as_posix()


def _item(
    path: Path, base: Path, root: Path, seller: Sequence[str], seller_domain: str | None, *, origin: str
) -> BatchItem:
    return BatchItem(
        id=_label(path, base, root), path=path, seller=tuple(seller), seller_domain=seller_domain, origin=origin
    )


def _dedupe(items: Iterable[BatchItem]) -> list[BatchItem]:
    """Drop exact repeats (a file named twice); a label reused by different work gets a suffix."""
    out: list[BatchItem] = []
    seen: set[tuple[Path, tuple[str, ...], str | None]] = set()
    ids: dict[str, int] = {}
    for item in items:
        key = (_safe_resolve(item.path), item.seller, item.seller_domain)
        if key in seen:
            continue
        seen.add(key)
        if item.id in ids:
            ids[item.id] += 1
            item = BatchItem(
                id=f"{item.id}#{ids[item.id]}",
                path=item.path,
                seller=item.seller,
                seller_domain=item.seller_domain,
                account_id=item.account_id,
                origin=item.origin,
            )
        else:
            ids[item.id] = 1
        out.append(item)
    return out


def _ext_list() -> str:
    return ", ".join(sorted(TRANSCRIPT_EXTENSIONS))
