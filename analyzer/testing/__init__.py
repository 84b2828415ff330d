"""Test helpers shipped with walkaway: a local OpenAI-compatible stub server with fault injection.

Names are imported lazily so ``python -m analyzer.testing.openai_stub`` does not import the module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzer.testing.openai_stub import Faults, OpenAIStub, default_responder, invalid_instance, minimal_instance

__all__ = ["Faults", "OpenAIStub", "default_responder", "invalid_instance", "minimal_instance"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from analyzer.testing import openai_stub

        return getattr(openai_stub, name)
    raise AttributeError(f"module 'analyzer.testing' has no attribute {name!r}")
