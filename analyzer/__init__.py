"""walkaway: should a seller pursue, qualify further, walk away from, or nurture a prospect?

The public surface: parse a transcript, analyze it into a verdict report, and the error tree.
"""

from typing import Any

from analyzer._errors import AnalyzerError, BackendError, ConfigError, ExtractionError, TranscriptError
from analyzer.config import Settings, load_settings

__all__ = [
    "AnalyzerError",
    "BackendError",
    "ConfigError",
    "ExtractionError",
    "Settings",
    "TranscriptError",
    "analyze",
    "analyze_async",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    # The pipeline pulls in the HTTP client stack; import it only when used so `walkaway parse` starts fast.
    if name in ("analyze", "analyze_async"):
        from analyzer import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
