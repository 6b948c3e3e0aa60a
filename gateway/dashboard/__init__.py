"""The run dashboard: one self-contained page that watches and steers a run, served two ways.

    iteration.py   what one iteration left in the run folder, as JSON (get_iteration and the HTTP side)
    page.py        the page (page.html) and the Content-Security-Policy that fits it
    app_tools.py   the MCP App: ui://colossus/run, the get_iteration tool, the metadata run tools declare
    http_routes.py /runs, /runs/<id> and their JSON, server-sent events, images and controls

Inside an MCP host the page talks through the MCP Apps bridge (postMessage JSON-RPC); from
`colossus serve --http` it talks to the same gateway with fetch and EventSource.
"""

__all__: list[str] = []
