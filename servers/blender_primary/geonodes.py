"""Geometry-node tools (BL-07): build and edit node trees step by step instead of writing bpy code.

A client creates a group attached to an object as a NODES modifier, adds nodes by type id,
links sockets by name or index, sets values, exposes group inputs to parameterise the modifier,
and reads the whole tree back with gn_describe. Node types are discovered from the running
Blender (not a hand-kept list), so the names in errors are the ones this build accepts.
"""

from __future__ import annotations

from typing import Annotated, Literal

import bpy
from fastmcp import FastMCP
from pydantic import BaseModel, Field

from servers.blender_primary.errors import (
    BadArgumentError,
    GNBadLinkError,
    GNBadValueError,
    GNNameTakenError,
    GNUnknownGroupError,
    GNUnknownNodeError,
    GNUnknownNodeTypeError,
    GNUnknownSocketError,
    UnsupportedObjectError,
)
from servers.blender_primary.geonodes_sockets import (
    GroupInfo,
    InterfaceSocketInfo,
    JsonValue,
    LinkInfo,
    NodeInfo,
    coerce,
    describe_group,
    describe_interface_socket,
    describe_link,
    describe_node,
    find_socket,
    kind_of_interface_socket,
    node_properties,
    plain,
)
from servers.blender_primary.lookup import closest, find_object

__all__ = ["ModifierAttached", "InputSet", "register", "node_types"]

TREE_TYPE = "GeometryNodeTree"
NODE_TYPE_PREFIXES = ("GeometryNode", "FunctionNode", "ShaderNode", "Node")

GroupName = Annotated[str, Field(min_length=1, max_length=63, description="node group name")]
NodeName = Annotated[str, Field(min_length=1, max_length=63, description="node name as shown by gn_describe")]
SocketKey = Annotated[str | int, Field(description="socket name (or identifier) or its index from gn_describe")]

INTERFACE_TYPES: dict[str, str] = {
    "FLOAT": "NodeSocketFloat",
    "INT": "NodeSocketInt",
    "BOOLEAN": "NodeSocketBool",
    "VECTOR": "NodeSocketVector",
    "ROTATION": "NodeSocketRotation",
    "COLOR": "NodeSocketColor",
    "STRING": "NodeSocketString",
    "OBJECT": "NodeSocketObject",
    "MATERIAL": "NodeSocketMaterial",
    "COLLECTION": "NodeSocketCollection",
    "GEOMETRY": "NodeSocketGeometry",
}


class ModifierAttached(BaseModel):
    object: str
    modifier: str
    created_group: bool = Field(description="false when an existing group of that name was reused")
    group: GroupInfo


class InputSet(BaseModel):
    target: str = Field(description="what was set, e.g. \"node 'Grid' input 'Size X'\" or \"modifier 'GN' input 'Count'\"")
    before: JsonValue
    after: JsonValue


def node_types() -> list[str]:
    """Every node type id this Blender build accepts in a geometry-node tree, found by trying each."""
    scratch = bpy.data.node_groups.new("__colossus_probe__", TREE_TYPE)
    accepted: list[str] = []
    try:
        for name in dir(bpy.types):
            cls = getattr(bpy.types, name)
            if not name.startswith(NODE_TYPE_PREFIXES) or not isinstance(cls, type) or not issubclass(cls, bpy.types.Node):
                continue
            try:
                scratch.nodes.remove(scratch.nodes.new(name))
            except RuntimeError:
                continue
            accepted.append(name)
    finally:
        bpy.data.node_groups.remove(scratch)
    return accepted


def _group(name: str) -> bpy.types.NodeTree:
    group = bpy.data.node_groups.get(name)
    if group is None or group.bl_idname != TREE_TYPE:
        names = [g.name for g in bpy.data.node_groups if g.bl_idname == TREE_TYPE]
        raise GNUnknownGroupError(
            f"no geometry-node group {name!r}; groups: {', '.join(names) or 'none (create one with gn_create_modifier)'}"
        )
    return group


def _node(group: bpy.types.NodeTree, name: str) -> bpy.types.Node:
    node = group.nodes.get(name)
    if node is None:
        names = [n.name for n in group.nodes]
        raise GNUnknownNodeError(f"group '{group.name}' has no node {name!r}; its nodes are: {', '.join(names) or 'none'}")
    return node


def _new_group(name: str) -> bpy.types.NodeTree:
    group = bpy.data.node_groups.new(name, TREE_TYPE)
    group.interface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    group.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    group_in = group.nodes.new("NodeGroupInput")
    group_out = group.nodes.new("NodeGroupOutput")
    group_in.location, group_out.location = (-400.0, 0.0), (400.0, 0.0)
    group.links.new(group_in.outputs[0], group_out.inputs[0])
    return group


def create_modifier(object_name: str, group_name: str, modifier_name: str | None) -> ModifierAttached:
    obj = find_object(object_name)
    group = bpy.data.node_groups.get(group_name)
    if group is not None and group.bl_idname != TREE_TYPE:
        raise GNNameTakenError(f"{group_name!r} is already a {group.bl_idname}, not a geometry-node group")
    try:
        modifier = obj.modifiers.new(modifier_name or group_name, "NODES")
    except (TypeError, RuntimeError) as e:
        raise UnsupportedObjectError(f"'{obj.name}' is a {obj.type}, which cannot take a geometry-nodes modifier") from e
    created = group is None
    modifier.node_group = _new_group(group_name) if created else group
    return ModifierAttached(object=obj.name, modifier=modifier.name, created_group=created, group=describe_group(modifier.node_group))


def _set_property(node: bpy.types.Node, key: str, value: JsonValue) -> None:
    settings = node_properties(node)
    prop = settings.get(key)
    if prop is None:
        raise GNBadValueError(f"node '{node.name}' ({node.bl_idname}) has no setting {key!r}; settings: {', '.join(settings) or 'none'}")
    if prop.type == "ENUM":
        choices = [item.identifier for item in prop.enum_items]
        if value not in choices:
            raise GNBadValueError(f"setting {key!r} of node '{node.name}' takes one of: {', '.join(choices)}; got {value!r}")
    try:
        setattr(node, key, value)
    except (TypeError, ValueError) as e:
        raise GNBadValueError(f"setting {key!r} of node '{node.name}' is a {prop.type}: {e}") from e


def add_node(
    group_name: str, node_type: str, name: str | None, location: tuple[float, float] | None, properties: dict[str, JsonValue]
) -> NodeInfo:
    group = _group(group_name)
    if name is not None and name in group.nodes:
        raise GNNameTakenError(f"group '{group.name}' already has a node named {name!r}")
    try:
        node = group.nodes.new(node_type)
    except RuntimeError:
        valid = node_types()
        hint = ", ".join(closest(node_type, valid) or closest(node_type.removeprefix("GeometryNode"), valid))
        raise GNUnknownNodeTypeError(
            f"{node_type!r} is not a node type usable in a geometry-node tree. Closest valid types: {hint or 'none'}. "
            f"({len(valid)} types exist, named like GeometryNodeMeshGrid, GeometryNodeSetPosition, ShaderNodeMath, FunctionNodeRandomValue)"
        ) from None
    try:
        if name is not None:
            node.name = name
        if location is not None:
            node.location = location
        for key, value in properties.items():
            _set_property(node, key, value)
    except Exception:
        group.nodes.remove(node)
        raise
    return describe_node(node)


def link(group_name: str, from_node: str, from_socket: str | int, to_node: str, to_socket: str | int) -> LinkInfo:
    group = _group(group_name)
    source = find_socket(_node(group, from_node), from_socket, is_input=False)
    target = find_socket(_node(group, to_node), to_socket, is_input=True)
    try:
        new_link = group.links.new(source, target)
    except RuntimeError as e:
        raise GNBadLinkError(f"cannot link '{from_node}'.{source.name} to '{to_node}'.{target.name}: {e}") from e
    if not new_link.is_valid:
        group.links.remove(new_link)
        raise GNBadLinkError(
            f"a {source.type} output ('{from_node}'.{source.name}) cannot feed a {target.type} input "
            f"('{to_node}'.{target.name}); link not made"
        )
    return describe_link(new_link)


def _modifier(obj: bpy.types.Object, name: str | None) -> bpy.types.NodesModifier:
    candidates = [mod for mod in obj.modifiers if mod.type == "NODES"]
    if name is None and candidates:
        return candidates[0]
    for mod in candidates:
        if mod.name == name:
            return mod
    raise GNUnknownGroupError(
        f"object '{obj.name}' has no geometry-nodes modifier {name!r}; it has: {', '.join(m.name for m in candidates) or 'none'}"
    )


def set_node_input(group_name: str, node_name: str, socket: str | int, value: JsonValue) -> InputSet:
    node = _node(_group(group_name), node_name)
    target = find_socket(node, socket, is_input=True)
    what = f"node '{node.name}' input '{target.name}'"
    if not hasattr(target, "default_value") or getattr(target, "hide_value", False):
        raise GNBadValueError(f"{what} ({target.type}) has no value of its own; link something into it instead")
    if target.is_linked:
        raise GNBadValueError(f"{what} is linked, so its value is ignored; remove the link or set the source instead")
    width = len(target.default_value) if target.type in {"VECTOR", "ROTATION", "RGBA"} else 1
    before = plain(target.default_value)
    target.default_value = coerce(target.type, value, width, what)
    return InputSet(target=what, before=before, after=plain(target.default_value))


def set_modifier_input(object_name: str, modifier_name: str | None, socket: str | int, value: JsonValue) -> InputSet:
    obj = find_object(object_name)
    modifier = _modifier(obj, modifier_name)
    inputs = [
        item
        for item in modifier.node_group.interface.items_tree
        if item.item_type == "SOCKET" and item.in_out == "INPUT" and item.socket_type != "NodeSocketGeometry"
    ]
    chosen = [item for i, item in enumerate(inputs) if socket in (item.name, item.identifier, i)]
    if not chosen:
        listing = ", ".join(f"{i} '{item.name}' ({item.identifier})" for i, item in enumerate(inputs)) or "none"
        raise GNUnknownSocketError(
            f"modifier '{modifier.name}' has no input {socket!r}; its inputs are: {listing}. "
            "Expose one with gn_add_group_input."
        )
    item = chosen[0]
    what = f"modifier '{modifier.name}' input '{item.name}'"
    kind = kind_of_interface_socket(item.socket_type)
    current = modifier.get(item.identifier)
    width = len(current) if kind in {"VECTOR", "ROTATION", "RGBA"} and current is not None else 3
    before = plain(current)
    try:
        modifier[item.identifier] = coerce(kind, value, width, what)
    except TypeError as e:
        raise GNBadValueError(f"{what} refused {value!r}: {e}") from e
    obj.update_tag()
    return InputSet(target=what, before=before, after=plain(modifier.get(item.identifier)))


def add_group_input(group_name: str, name: str, socket_type: str, default: JsonValue) -> InterfaceSocketInfo:
    group = _group(group_name)
    taken = [item.name for item in group.interface.items_tree if item.item_type == "SOCKET" and item.in_out == "INPUT"]
    if name in taken:
        raise GNNameTakenError(f"group '{group.name}' already has an input {name!r}; inputs: {', '.join(taken)}")
    item = group.interface.new_socket(name, in_out="INPUT", socket_type=INTERFACE_TYPES[socket_type])
    try:
        if default is not None:
            kind = kind_of_interface_socket(item.socket_type)
            width = len(item.default_value) if kind in {"VECTOR", "ROTATION", "RGBA"} else 1
            item.default_value = coerce(kind, default, width, f"group input '{name}'")
    except Exception:
        group.interface.remove(item)
        raise
    _refresh_users(group, item)
    return describe_interface_socket(item)


def _refresh_users(group: bpy.types.NodeTree, item: object) -> None:
    """Give modifiers already using `group` the new input's default (Blender starts them at zero)."""
    group.interface_update(bpy.context)
    value = getattr(item, "default_value", None)
    for obj in bpy.data.objects:
        for mod in obj.modifiers:
            if mod.type == "NODES" and mod.node_group == group:
                if value is not None and not isinstance(value, bpy.types.ID) and item.identifier in mod:
                    mod[item.identifier] = plain(value)
                obj.update_tag()


def register(mcp: FastMCP) -> None:
    """Add the geometry-node tools to the worker's server."""

    @mcp.tool(timeout=30)
    async def gn_create_modifier(
        object_name: Annotated[str, Field(description="object to add the modifier to")],
        group_name: GroupName,
        modifier_name: Annotated[str | None, Field(max_length=63, description="defaults to the group name")] = None,
    ) -> ModifierAttached:
        """Attach a geometry-nodes modifier to an object, with a node group of that name.

        A new group starts as Group Input → Group Output with the geometry passed through, so the
        object looks unchanged until you add nodes. An existing geometry-node group of that name is
        reused (created_group=false). Returns the group as gn_describe would.
        """
        return create_modifier(object_name, group_name, modifier_name)

    @mcp.tool(timeout=30)
    async def gn_add_node(
        group: GroupName,
        node_type: Annotated[str, Field(description="node type id, e.g. GeometryNodeMeshGrid, GeometryNodeSetPosition, ShaderNodeMath")],
        name: Annotated[str | None, Field(max_length=63, description="a unique name to refer to the node; Blender picks one when omitted")] = None,
        location: Annotated[tuple[float, float] | None, Field(description="editor position, cosmetic")] = None,
        properties: Annotated[
            dict[str, JsonValue] | None,
            Field(description="node settings, e.g. {\"operation\": \"MULTIPLY\"} for ShaderNodeMath or {\"data_type\": \"FLOAT\"}"),
        ] = None,
    ) -> NodeInfo:
        """Add one node to a geometry-node group and return its name, settings and sockets.

        An unknown type id fails with the closest valid ids of this Blender build.
        """
        return add_node(group, node_type, name, location, properties or {})

    @mcp.tool(timeout=30)
    async def gn_link(
        group: GroupName, from_node: NodeName, from_socket: SocketKey, to_node: NodeName, to_socket: SocketKey
    ) -> LinkInfo:
        """Connect an output socket of one node to an input socket of another.

        Sockets are chosen by name or by index (several sockets can share a name, e.g. ShaderNodeMath's
        inputs 0 and 1 are both 'Value'). A link into an input that is already linked replaces the old one.
        Links between incompatible types are refused. The Group Input / Group Output nodes expose the
        group's interface sockets (add more with gn_add_group_input).
        """
        return link(group, from_node, from_socket, to_node, to_socket)

    @mcp.tool(timeout=30)
    async def gn_remove_node(group: GroupName, node: NodeName) -> GroupInfo:
        """Delete a node and every link touching it; returns the group as gn_describe would."""
        tree = _group(group)
        tree.nodes.remove(_node(tree, node))
        return describe_group(tree)

    @mcp.tool(timeout=30)
    async def gn_set_input(
        value: Annotated[JsonValue, Field(description="number, integer, true/false, string, a list for vectors and colours, or an object/material name")],
        socket: SocketKey,
        group: Annotated[str | None, Field(description="with node: set a node input's default value in this group")] = None,
        node: Annotated[str | None, Field(description="node name in `group`")] = None,
        object_name: Annotated[str | None, Field(description="instead of group+node: set an input of this object's geometry-nodes modifier")] = None,
        modifier: Annotated[str | None, Field(description="modifier name; the object's first geometry-nodes modifier when omitted")] = None,
    ) -> InputSet:
        """Set a value: either a node input's default (group + node + socket) or an input the group
        exposes on an object's modifier (object_name [+ modifier] + socket, by name, identifier or index).

        Returns the value before and after. A linked node input is refused, since its value would be ignored.
        """
        if object_name is not None and group is None and node is None:
            return set_modifier_input(object_name, modifier, socket, value)
        if group is not None and node is not None and object_name is None:
            return set_node_input(group, node, socket, value)
        raise BadArgumentError("give either group and node (a node input) or object_name (a modifier input), not both")

    @mcp.tool(timeout=30)
    async def gn_set_node_property(group: GroupName, node: NodeName, property: str, value: JsonValue) -> NodeInfo:
        """Change a node's setting (not a socket), e.g. ShaderNodeMath 'operation' or a Switch's 'input_type'.

        gn_describe lists each node's settings and their values; a bad value lists the allowed ones.
        """
        target = _node(_group(group), node)
        _set_property(target, property, value)
        return describe_node(target)

    @mcp.tool(timeout=30)
    async def gn_add_group_input(
        group: GroupName,
        name: Annotated[str, Field(min_length=1, max_length=63)],
        socket_type: Literal[tuple(INTERFACE_TYPES)],  # type: ignore[valid-type]
        default: Annotated[JsonValue, Field(description="default value; modifiers already using the group get it too")] = None,
    ) -> InterfaceSocketInfo:
        """Expose a new input on a group, so the modifier can be parameterised with gn_set_input(object_name=...).

        The Group Input node then has an output of this name to link into the tree with gn_link.
        """
        return add_group_input(group, name, socket_type, default)

    @mcp.tool(timeout=30, annotations={"readOnlyHint": True})
    async def gn_describe(group: GroupName) -> GroupInfo:
        """The whole tree of a geometry-node group: interface inputs/outputs, every node (type, settings,
        sockets with types, default values and link state) and every link, plus which modifiers use it.
        """
        return describe_group(_group(group))

