"""Errors a Blender worker tool reports to its MCP client.

Every message crossing MCP starts with a stable tag so the far side (gateway, coordinator)
can map it back without parsing prose::

    ToolError (fastmcp: the message the host model sees; anything else is masked)
     └── TaggedToolError (harness.tool_error)  [TAG] message
          └── WorkerToolError    [WORKER_ERROR]
               ├── BadIdError            [BAD_ID]          id/name outside ^[A-Za-z0-9_-]{1,64}$
               ├── BadPathError          [BAD_PATH]        output path escaping the output dir
               ├── UnknownObjectError    [UNKNOWN_OBJECT]  no object of that name (lists closest names)
               ├── UnknownBaselineError  [UNKNOWN_BASELINE] no saved baseline of that id
               ├── BaselineError         [BASELINE_ERROR]  a baseline could not be loaded or is built in
               ├── SaveError             [SAVE_ERROR]      writing a .blend failed (blend_files)
               ├── RenderError           [RENDER_ERROR]    Blender failed to render a view
               ├── BadArgumentError      [BAD_ARGUMENT]    arguments that contradict each other or the object (e.g. zero size)
               ├── UnsupportedObjectError [UNSUPPORTED_OBJECT] the object's type cannot take this operation
               ├── BadFormatError        [BAD_FORMAT]      export format not one of glb/fbx/obj/blend
               ├── ExportError           [EXPORT_ERROR]    Blender's exporter failed
               ├── asset finalization (asset_*.py)
               │    ├── AssetSourceError [ASSET_SOURCE] a source file that is missing, empty, corrupt or has no mesh
               │    └── BakeError        [BAKE_ERROR]   Cycles could not bake a map
               └── geometry nodes (names the valid choices)
                    ├── GNUnknownGroupError    [GN_UNKNOWN_GROUP]     no such node group / geometry-nodes modifier
                    ├── GNUnknownNodeError     [GN_UNKNOWN_NODE]      no node of that name in the group
                    ├── GNUnknownNodeTypeError [GN_UNKNOWN_NODE_TYPE] not a node type of this Blender build
                    ├── GNUnknownSocketError   [GN_UNKNOWN_SOCKET]    no such socket on the node or modifier
                    ├── GNBadLinkError         [GN_BAD_LINK]          incompatible socket types
                    ├── GNBadValueError        [GN_BAD_VALUE]         value of the wrong type or setting outside its choices
                    └── GNNameTakenError       [GN_NAME_TAKEN]        node / input / group name already used

A snippet's own failure is not an error here: execute_code returns a failed ExecutionReport.
"""

from __future__ import annotations

from harness.tool_error import TaggedToolError

__all__ = [
    "WorkerToolError",
    "BadIdError",
    "BadPathError",
    "UnknownObjectError",
    "UnknownBaselineError",
    "BaselineError",
    "RenderError",
    "BadArgumentError",
    "UnsupportedObjectError",
    "BadFormatError",
    "ExportError",
    "AssetSourceError",
    "BakeError",
    "GNUnknownGroupError",
    "GNUnknownNodeError",
    "GNUnknownNodeTypeError",
    "GNUnknownSocketError",
    "GNBadLinkError",
    "GNBadValueError",
    "GNNameTakenError",
]


class WorkerToolError(TaggedToolError):
    tag = "WORKER_ERROR"


class BadIdError(WorkerToolError):
    tag = "BAD_ID"


class BadPathError(WorkerToolError):
    tag = "BAD_PATH"


class UnknownObjectError(WorkerToolError):
    tag = "UNKNOWN_OBJECT"


class UnknownBaselineError(WorkerToolError):
    tag = "UNKNOWN_BASELINE"


class BaselineError(WorkerToolError):
    tag = "BASELINE_ERROR"


class SaveError(WorkerToolError):
    tag = "SAVE_ERROR"


class RenderError(WorkerToolError):
    tag = "RENDER_ERROR"


class BadArgumentError(WorkerToolError):
    tag = "BAD_ARGUMENT"


class UnsupportedObjectError(WorkerToolError):
    tag = "UNSUPPORTED_OBJECT"


class BadFormatError(WorkerToolError):
    tag = "BAD_FORMAT"


class ExportError(WorkerToolError):
    tag = "EXPORT_ERROR"


class AssetSourceError(WorkerToolError):
    tag = "ASSET_SOURCE"


class BakeError(WorkerToolError):
    tag = "BAKE_ERROR"


class GNUnknownGroupError(WorkerToolError):
    tag = "GN_UNKNOWN_GROUP"


class GNUnknownNodeError(WorkerToolError):
    tag = "GN_UNKNOWN_NODE"


class GNUnknownNodeTypeError(WorkerToolError):
    tag = "GN_UNKNOWN_NODE_TYPE"


class GNUnknownSocketError(WorkerToolError):
    tag = "GN_UNKNOWN_SOCKET"


class GNBadLinkError(WorkerToolError):
    tag = "GN_BAD_LINK"


class GNBadValueError(WorkerToolError):
    tag = "GN_BAD_VALUE"


class GNNameTakenError(WorkerToolError):
    tag = "GN_NAME_TAKEN"
