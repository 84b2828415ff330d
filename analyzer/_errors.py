"""The one error tree of walkaway, and the exit codes every command uses.

Every error a user can cause or meet derives from ``AnalyzerError`` and carries one clear sentence;
the CLI prints ``str(error)`` and exits with ``error.exit_code``, never a traceback.

    AnalyzerError                 exit 2 unless noted
    ├── TranscriptError           bad input: which file, which line or cue, what was expected
    ├── ConfigError               bad settings, unknown backend, policy, ICP, prompt template or eval suite file
    ├── BackendError              exit 3: endpoint down, timeouts, refusals, local model missing or not ready
    └── ExtractionError           exit 3: the model's output stayed unusable after bounded retries (names the chunk)

Exit codes (every command; tested per command in ``tests/test_exit_codes.py``):

    0  ok
    1  the analysis or eval said no: a suite threshold missed, ``--fail-on`` matched, a batch item failed,
       an eval case errored
    2  usage, configuration or input error (click's own usage errors included)
    3  the backend was unreachable or kept failing after the retry budget (``Settings.max_retries``)
    4  an internal error: a bug in walkaway, reported in one sentence (``WALKAWAY_DEBUG=1`` shows the traceback)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NO = 1
EXIT_USAGE = 2
EXIT_BACKEND = 3
EXIT_INTERNAL = 4


class AnalyzerError(Exception):
    """Base of every error walkaway raises on purpose; ``str()`` is a sentence fit for a user."""

    exit_code: int = EXIT_USAGE

    @property
    def detail(self) -> str:
        """The sentence without the location a caller already shows beside it (``str()`` by default)."""
        return str(self)


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

    exit_code = EXIT_BACKEND


class ExtractionError(AnalyzerError):
    """The model's output for one chunk stayed unusable after bounded re-asks."""

    exit_code = EXIT_BACKEND

    def __init__(self, message: str, *, chunk_id: int | None = None) -> None:
        self.chunk_id = chunk_id
        self._message = message
        prefix = f"chunk {chunk_id}: " if chunk_id is not None else ""
        super().__init__(f"{prefix}{message}")

    @property
    def detail(self) -> str:
        """The sentence without its "chunk N: " prefix (a report lists failures under their chunk already)."""
        return self._message
