"""The tagged base both servers' tool errors derive from."""

from __future__ import annotations

from fastmcp.exceptions import ToolError

from harness.tool_error import TaggedToolError
from servers.blender_primary.errors import BadIdError, WorkerToolError
from servers.viewport_vision.errors import NoVerifierError, VisionError


def test_a_servers_tool_error_text_starts_with_its_own_tag() -> None:
    assert str(BadIdError("bad name 'a b'")) == "[BAD_ID] bad name 'a b'"
    assert str(NoVerifierError("set [models] verifier")) == "[NO_VERIFIER] set [models] verifier"
    assert str(WorkerToolError("x")) == "[WORKER_ERROR] x" and str(VisionError("y")) == "[VISION_ERROR] y"


def test_both_servers_errors_are_tool_errors_the_host_model_sees() -> None:
    for error in (BadIdError("x"), NoVerifierError("y")):
        assert isinstance(error, TaggedToolError) and isinstance(error, ToolError)
