"""The MCP server inside one Blender process (see server.py). Importing this package does not import bpy."""
