"""The tools hosts see, one module per toolset, each with `register(app, services)`; gateway.server wires them."""

HIGH_LEVEL_TOOLS = (
    "reset_to_baseline", "execute_code", "render_pack", "verify", "release_scene", "run_attempt",
    "start_run", "get_run", "list_runs", "cancel_run", "resume_run", "fork_run", "get_iteration", "mesh_status",
    "finalize_asset", "get_finalize", "enable_toolset",
)
"""The gateway's own tool names: an upstream tool that would take one is renamed (gateway.mesh)."""
