"""Shared fixtures of the coordinator tests."""

import base64

import pytest

# a 1×1 PNG: the smallest valid reference image
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/Ux5uWQAAAABJRU5ErkJggg==")


@pytest.fixture
def png() -> bytes:
    return PNG
