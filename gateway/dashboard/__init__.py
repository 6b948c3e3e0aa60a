"""The run dashboard: one self-contained page that watches and steers a run, served two ways.

    iteration.py   what one iteration left in the run folder, as JSON (get_iteration and the HTTP side)
    page.py        the page (page.html), the Content-Security-Policy that fits it, and RUN_APP (what
                   start_run and get_run declare)
    app_tools.py   the MCP App: the ui://colossus/run resource and the get_iteration tool
    http_routes.py /runs, /runs/<id> and their JSON, server-sent events, images and controls

Inside an MCP host the page talks through the MCP Apps bridge (postMessage JSON-RPC); from
`colossus serve --http` it talks to the same gateway with fetch and EventSource.
"""
