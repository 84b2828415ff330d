"""The one error tree of walkaway.

Every error a user can cause or meet derives from ``AnalyzerError`` and carries one clear sentence;
the CLI prints ``str(error)`` and exits with ``error.exit_code``, never a traceback.

    AnalyzerError                 exit 2 unless noted
    ├── TranscriptError           bad input: which file, which line or cue, what was expected
    ├── ConfigError               bad settings, policy, ICP, prompt template or eval suite file
    ├── BackendError              endpoint down, timeouts, refusals, local model missing or not ready
    └── ExtractionError           the model's output stayed unusable after bounded retries (names the chunk)
"""

from __future__ import annotations


class AnalyzerError(Exception):
    """Base of every error walkaway raises on purpose; ``str()`` is a sentence fit for a user."""

    exit_code: int = 2


class TranscriptError(AnalyzerError):
    """A transcript could not be read: names the file, the line or cue, and what was expected."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(f"{where}{message}")


class ConfigError(AnalyzerError):
    """Settings, a policy, an ICP, a prompt template or an eval suite is invalid."""


class BackendError(AnalyzerError):
    """The LLM backend could not be reached or refused the request after retries."""


class ExtractionError(AnalyzerError):
    """The model's output for one chunk stayed unusable after bounded re-asks."""

    def __init__(self, message: str, *, chunk_id: int | None = None) -> None:
        self.chunk_id = chunk_id
        prefix = f"chunk {chunk_id}: " if chunk_id is not None else ""
        super().__init__(f"{prefix}{message}")
