"""Executing code in Blender, as seen from outside Blender: no module here imports bpy.

report (ExecutionReport), scene_types, validator, classifier, launcher (how a worker process is
started), platform_calls (the POSIX calls of the worker and the pool, each with a portable
fallback), process_records (who owns a run or a folder, and whether it still runs), errors, tool_error (the tagged base of our servers' tool errors); plus what the
vision server, the coordinator and the gateway share: types, model roles, prompt_files (strict
prompt templates) and render_options (RenderSettings as flat tool arguments).
"""
