"""Executing code in Blender, as seen from outside Blender: no module here imports bpy.

report (ExecutionReport), scene_types, validator, classifier, launcher (how a worker process is
started), errors, tool_error (the tagged base of our servers' tool errors); plus the types and
model roles shared with the vision server and coordinator.
"""
