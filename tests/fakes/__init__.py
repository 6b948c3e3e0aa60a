"""Test doubles for things outside our control; only remote model providers qualify."""

from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply, openai_server

__all__ = ["FakeOpenAIServer", "RecordedRequest", "Reply", "openai_server"]
