"""Viewport-vision MCP server: sentinel checks, metrics against references, VLM critique, pHash.

In-process use (no MCP): `servers.viewport_vision.server.VisionCore`, or the plain functions in
sentinel.py, metrics.py, phash.py and critique.py.
"""
