"""Is another quantisation of the embedded model faster on this CPU? Prompt and generation speed per type.

    .venv/bin/python benchmarks/quant_speed.py [TYPE ...]     (default: q8_0 q4_0)

Nothing is downloaded: each type is made from the shipped Q4_K_M file with llama.cpp's own quantiser
(``llama_model_quantize`` with requantising allowed) into a temporary folder. A requantised file cannot be
better than the file it comes from, so this measures speed only; a type worth shipping would then need
its own quality run. Per type it prints the prompt speed on a 1,200-token transcript batch (twice, the
second warm) and the generation speed (40 single tokens decoded one at a time after that prompt), with
the shipped settings (``LLAMA_OPTIONS``), the context and thread count the pipeline uses.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import llama_cpp  # noqa: E402

from analyzer.config import load_settings  # noqa: E402
from analyzer.extraction.backends.llamacpp import LLAMA_OPTIONS  # noqa: E402
from analyzer.extraction.backends.localmodel import ensure_model, requantise  # noqa: E402

CALL = REPO / "evals/dev/calls/w2-13-tri-county-electric-siem.txt"
TYPES = {
    name: getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{name.upper()}")
    for name in ("q4_k_m", "q4_k_s", "q5_k_m", "q5_k_s", "q6_k", "q8_0", "q4_0", "q5_0", "iq4_nl", "f16")
}


def speeds(path: Path, n_ctx: int, threads: int | None) -> tuple[float, float, float, float]:
    llm = llama_cpp.Llama(str(path), n_ctx=n_ctx, n_threads=threads, verbose=False, **LLAMA_OPTIONS)
    tokens = llm.tokenize(CALL.read_text().encode())[:1200]
    prompt = []
    for _ in range(2):
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        prompt.append(len(tokens) / (time.perf_counter() - started))
    started = time.perf_counter()
    for token in tokens[:40]:  # any 40 tokens: one decode each, as generation does
        llm.eval([token])
    generation = 40 / (time.perf_counter() - started)
    size = path.stat().st_size / 2**30
    del llm
    return prompt[0], prompt[1], generation, size


def main() -> None:
    wanted = sys.argv[1:] or ["q8_0", "q4_0"]
    unknown = [t for t in wanted if t not in TYPES]
    if unknown:
        raise SystemExit(f"unknown type {unknown[0]!r}; expected one of {', '.join(TYPES)}")
    settings = load_settings()
    shipped = ensure_model(settings.model_dir)
    print(f"{'type':10} {'GiB':>5} {'prompt tok/s (cold, warm)':>27} {'generation tok/s':>17}")
    with tempfile.TemporaryDirectory() as tmp:
        files = [("shipped", shipped)]
        for name in wanted:
            dst = Path(tmp) / f"{name}.gguf"
            if not requantise(shipped, dst, TYPES[name]):
                raise SystemExit(f"llama.cpp could not quantise {shipped} to {name}")
            files.append((name, dst))
        for name, path in files:
            cold, warm, gen, size = speeds(path, settings.local_ctx, settings.local_threads)
            print(f"{name:10} {size:5.2f} {cold:13.1f} {warm:13.1f} {gen:17.1f}", flush=True)


if __name__ == "__main__":
    main()
