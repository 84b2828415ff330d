"""Test helpers shipped with walkaway: a local OpenAI-compatible stub server with fault injection."""

from analyzer.testing.openai_stub import (
    Faults,
    OpenAIStub,
    default_responder,
    invalid_instance,
    minimal_instance,
)

__all__ = ["Faults", "OpenAIStub", "default_responder", "invalid_instance", "minimal_instance"]
