"""How geometry-node trees look to a client: typed descriptions of nodes, sockets and links,
socket lookup by name or index, and turning JSON values into what a socket accepts.

Every lookup failure names the valid choices, so a model that guessed a socket name can pick
the right one on its next call instead of reading Blender's source.
"""

from __future__ import annotations

from typing import Any, Literal

import bpy
from pydantic import BaseModel, Field

from servers.blender_primary.errors import GNBadValueError, GNUnknownSocketError
from servers.blender_primary.lookup import closest

__all__ = [
    "JsonValue",
    "SocketInfo",
    "NodeInfo",
    "LinkInfo",
    "InterfaceSocketInfo",
    "GroupInfo",
    "describe_group",
    "describe_node",
    "describe_link",
    "describe_interface_socket",
    "find_socket",
    "node_properties",
    "coerce",
    "kind_of_interface_socket",
    "interface_sockets",
    "group_users",
    "plain",
]

JsonValue = float | int | bool | str | list[float] | None


class SocketInfo(BaseModel):
    index: int = Field(description="position among the node's inputs or outputs; usable instead of the name")
    name: str
    identifier: str
    type: str = Field(description="VALUE, INT, BOOLEAN, VECTOR, ROTATION, RGBA, STRING, GEOMETRY, OBJECT, ...")
    default_value: JsonValue = None
    settable: bool = Field(description="has a default value you can set with gn_set_input (inputs that are not linked)")
    linked: bool = False


class NodeInfo(BaseModel):
    name: str = Field(description="unique within the group; use it to refer to the node")
    type: str = Field(description="the node type id, e.g. GeometryNodeMeshGrid")
    label: str = ""
    location: tuple[float, float]
    properties: dict[str, JsonValue] = Field(
        default_factory=dict, description="node settings such as operation or data_type"
    )
    inputs: list[SocketInfo]
    outputs: list[SocketInfo]


class LinkInfo(BaseModel):
    from_node: str
    from_socket: str
    from_index: int
    to_node: str
    to_socket: str
    to_index: int
    valid: bool


class InterfaceSocketInfo(BaseModel):
    name: str
    identifier: str = Field(description="the key a modifier stores this input under, e.g. Socket_2")
    in_out: Literal["INPUT", "OUTPUT"]
    socket_type: str
    default_value: JsonValue = None


class GroupInfo(BaseModel):
    name: str
    inputs: list[InterfaceSocketInfo] = Field(description="the group's interface inputs (a modifier shows these)")
    outputs: list[InterfaceSocketInfo]
    nodes: list[NodeInfo]
    links: list[LinkInfo]
    users: list[str] = Field(default_factory=list, description="'object/modifier' pairs that use this group")


def plain(value: Any) -> JsonValue:
    """A Blender value as JSON: IDs by name, vectors and colours as lists of floats."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bpy.types.ID):
        return value.name
    try:
        return [float(component) for component in value]
    except (TypeError, ValueError):
        return str(value)


def _usable(socket: bpy.types.NodeSocket) -> bool:
    return socket.enabled and socket.bl_idname != "NodeSocketVirtual"


def _socket_info(index: int, socket: bpy.types.NodeSocket, is_input: bool) -> SocketInfo:
    has_value = is_input and hasattr(socket, "default_value") and not getattr(socket, "hide_value", False)
    return SocketInfo(
        index=index,
        name=socket.name,
        identifier=socket.identifier,
        type=socket.type,
        default_value=plain(socket.default_value) if has_value else None,
        settable=has_value and not socket.is_linked,
        linked=socket.is_linked,
    )


_BASE_NODE_PROPERTIES = frozenset(bpy.types.Node.bl_rna.properties.keys())


def node_properties(node: bpy.types.Node) -> dict[str, bpy.types.Property]:
    """The settings a node type adds to every node (operation, data_type, domain, mode, ...)."""
    return {
        prop.identifier: prop
        for prop in node.bl_rna.properties
        if prop.identifier not in _BASE_NODE_PROPERTIES
        and prop.type in {"ENUM", "BOOLEAN", "INT", "FLOAT", "STRING"}
        and not prop.is_readonly
    }


def describe_node(node: bpy.types.Node) -> NodeInfo:
    return NodeInfo(
        name=node.name,
        type=node.bl_idname,
        label=node.label,
        location=(float(node.location[0]), float(node.location[1])),
        properties={key: plain(getattr(node, key)) for key in node_properties(node)},
        inputs=[_socket_info(i, s, True) for i, s in enumerate(node.inputs) if _usable(s)],
        outputs=[_socket_info(i, s, False) for i, s in enumerate(node.outputs) if _usable(s)],
    )


def describe_link(link: bpy.types.NodeLink) -> LinkInfo:
    return LinkInfo(
        from_node=link.from_node.name,
        from_socket=link.from_socket.name,
        from_index=list(link.from_node.outputs).index(link.from_socket),
        to_node=link.to_node.name,
        to_socket=link.to_socket.name,
        to_index=list(link.to_node.inputs).index(link.to_socket),
        valid=link.is_valid,
    )


def describe_interface_socket(item: Any) -> InterfaceSocketInfo:
    return InterfaceSocketInfo(
        name=item.name,
        identifier=item.identifier,
        in_out=item.in_out,
        socket_type=item.socket_type,
        default_value=plain(getattr(item, "default_value", None)),
    )


def interface_sockets(group: bpy.types.NodeTree, in_out: Literal["INPUT", "OUTPUT"]) -> list[Any]:
    """The group's interface sockets on one side, in order (panels left out)."""
    return [item for item in group.interface.items_tree if item.item_type == "SOCKET" and item.in_out == in_out]


def group_users(group: bpy.types.NodeTree) -> list[tuple[bpy.types.Object, bpy.types.NodesModifier]]:
    """The (object, geometry-nodes modifier) pairs that run `group`."""
    return [(obj, mod) for obj in bpy.data.objects for mod in obj.modifiers
            if mod.type == "NODES" and mod.node_group == group]


def describe_group(group: bpy.types.NodeTree) -> GroupInfo:
    return GroupInfo(
        name=group.name,
        inputs=[describe_interface_socket(item) for item in interface_sockets(group, "INPUT")],
        outputs=[describe_interface_socket(item) for item in interface_sockets(group, "OUTPUT")],
        nodes=[describe_node(node) for node in group.nodes],
        links=[describe_link(link) for link in group.links],
        users=[f"{obj.name}/{mod.name}" for obj, mod in group_users(group)],
    )


def _listing(sockets: Any) -> str:
    return ", ".join(f"{i} '{s.name}' ({s.type})" for i, s in enumerate(sockets) if _usable(s)) or "none"


def find_socket(node: bpy.types.Node, key: str | int, is_input: bool) -> bpy.types.NodeSocket:
    """A usable socket of `node` by index, name or identifier; the error lists the node's sockets."""
    sockets = node.inputs if is_input else node.outputs
    side = "input" if is_input else "output"
    if isinstance(key, int):
        if 0 <= key < len(sockets) and _usable(sockets[key]):
            return sockets[key]
    else:
        for matches in (
            lambda s: s.name == key,
            lambda s: s.identifier == key,
            lambda s: s.name.casefold() == key.casefold(),
        ):
            found = [s for s in sockets if _usable(s) and matches(s)]
            if found:
                return found[0]
    raise GNUnknownSocketError(
        f"node '{node.name}' ({node.bl_idname}) has no {side} {key!r}; its {side}s are: {_listing(sockets)}"
    )


_INTERFACE_KINDS = (
    ("NodeSocketFloat", "VALUE"),
    ("NodeSocketInt", "INT"),
    ("NodeSocketBool", "BOOLEAN"),
    ("NodeSocketVector", "VECTOR"),
    ("NodeSocketRotation", "ROTATION"),
    ("NodeSocketColor", "RGBA"),
    ("NodeSocketString", "STRING"),
    ("NodeSocketMenu", "MENU"),
    ("NodeSocketObject", "OBJECT"),
    ("NodeSocketMaterial", "MATERIAL"),
    ("NodeSocketCollection", "COLLECTION"),
    ("NodeSocketImage", "IMAGE"),
)


def kind_of_interface_socket(socket_type: str) -> str:
    """The socket `type` (VALUE, INT, ...) an interface socket id such as NodeSocketFloatDistance stands for."""
    for prefix, kind in _INTERFACE_KINDS:
        if socket_type.startswith(prefix):
            return kind
    return socket_type


_ID_COLLECTIONS = {"OBJECT": "objects", "MATERIAL": "materials", "COLLECTION": "collections", "IMAGE": "images"}


def coerce(kind: str, value: JsonValue, current: Any, what: str) -> Any:
    """`value` converted for a socket of type `kind` whose value is now `current`, or [GN_BAD_VALUE].

    A vector or colour takes as many components as `current` holds (3 when it has no value yet).
    """

    def bad(expected: str) -> GNBadValueError:
        return GNBadValueError(f"{what} is a {kind} socket: give {expected}, got {value!r}")

    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "VALUE":
        if not is_number:
            raise bad("a number")
        return float(value)
    if kind == "INT":
        if not is_number or float(value) != int(value):
            raise bad("an integer")
        return int(value)
    if kind == "BOOLEAN":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind in {"VECTOR", "ROTATION", "RGBA"}:
        width = len(current) if current is not None else 3
        if isinstance(value, list) and kind == "RGBA" and len(value) == 3:
            value = [*value, 1.0]
        if (
            not isinstance(value, list)
            or len(value) != width
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in value)
        ):
            raise bad(f"a list of {width} numbers")
        return [float(c) for c in value]
    if kind in {"STRING", "MENU"}:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind in _ID_COLLECTIONS:
        if not isinstance(value, str):
            raise bad(f"the name of an existing {kind.lower()}")
        pool = getattr(bpy.data, _ID_COLLECTIONS[kind])
        if value not in pool:
            names = closest(value, [item.name for item in pool])
            raise bad(f"the name of an existing {kind.lower()} (closest: {', '.join(names) or 'none exist'})")
        return pool[value]
    raise GNBadValueError(f"{what} is a {kind} socket, which holds no settable value")
