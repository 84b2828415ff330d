"""Options shared by the commands that run a model: backend, model, strategy, profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

BACKENDS = ["local", "openai", "langchain", "fake", "keywords", "naive"]
STRATEGIES = ["chunks", "questions", "windows", "structured"]


def model_options() -> Callable[[F], F]:
    """``--backend``, ``--model``, ``--strategy`` and ``--profile``, in that order."""

    def apply(f: F) -> F:
        f = click.option(
            "--profile",
            envvar="WALKAWAY_PROFILE",
            metavar="NAME",
            help="Model profile (prompts/profiles/NAME.yaml, <home>/profiles/NAME.yaml, or a path): strategy, "
            "thresholds, calibration. Default: the profile that names the model; none means uncalibrated.",
        )(f)
        f = click.option(
            "--strategy",
            type=click.Choice(STRATEGIES),
            envvar="WALKAWAY_STRATEGY",
            help="Extraction strategy: chunks (alias questions: yes/no questions scored by log-probabilities over "
            "long chunks), windows (narrow questions over short prospect windows) or structured (one "
            "structured-output call per chunk). Default: the model profile's; structured without a profile.",
        )(f)
        f = click.option(
            "--model",
            envvar="WALKAWAY_MODEL",
            help="A model name for the openai backend (gpt-4o-mini), or PROVIDER:MODEL for any LangChain "
            "provider (anthropic:claude-3-5-haiku-latest, ollama:qwen2.5:7b, google_genai:gemini-2.0-flash).",
        )(f)
        f = click.option(
            "--backend",
            type=click.Choice(BACKENDS),
            envvar="WALKAWAY_BACKEND",
            help="LLM backend (default: langchain for a PROVIDER:MODEL --model, openai when WALKAWAY_BASE_URL is "
            "set, else the embedded local model).",
        )(f)
        return f

    return apply
