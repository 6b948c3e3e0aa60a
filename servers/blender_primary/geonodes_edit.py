"""Editing geometry-node trees in bpy: the operations behind the gn_* tools.

Each function does one edit, checks names first (so a failed call leaves the tree as it was)
and returns the typed description of what it touched. Node types are discovered from the
running Blender, not a hand-kept list, so the names in errors are the ones this build accepts.
"""

from __future__ import annotations

import bpy
from pydantic import BaseModel, Field

from servers.blender_primary.errors import (
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
    group_users,
    interface_sockets,
    kind_of_interface_socket,
    node_properties,
    plain,
)
from servers.blender_primary.lookup import closest, find_object

__all__ = [
    "INTERFACE_TYPES",
    "ModifierAttached",
    "InputSet",
    "node_types",
    "find_group",
    "create_modifier",
    "add_node",
    "remove_node",
    "link",
    "set_node_property",
    "set_node_input",
    "set_modifier_input",
    "add_group_input",
]

TREE_TYPE = "GeometryNodeTree"
NODE_TYPE_PREFIXES = ("GeometryNode", "FunctionNode", "ShaderNode", "Node")

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
    target: str = Field(
        description="what was set, e.g. \"node 'Grid' input 'Size X'\" or \"modifier 'GN' input 'Count'\""
    )
    before: JsonValue
    after: JsonValue


def node_types() -> list[str]:
    """Every node type id this Blender build accepts in a geometry-node tree, found by trying each."""
    scratch = bpy.data.node_groups.new("__colossus_probe__", TREE_TYPE)
    accepted: list[str] = []
    try:
        for name in dir(bpy.types):
            cls = getattr(bpy.types, name)
            if (
                not name.startswith(NODE_TYPE_PREFIXES)
                or not isinstance(cls, type)
                or not issubclass(cls, bpy.types.Node)
            ):
                continue
            try:
                scratch.nodes.remove(scratch.nodes.new(name))
            except RuntimeError:
                continue
            accepted.append(name)
    finally:
        bpy.data.node_groups.remove(scratch)
    return accepted


def find_group(name: str) -> bpy.types.NodeTree:
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
        raise GNUnknownNodeError(
            f"group '{group.name}' has no node {name!r}; its nodes are: {', '.join(names) or 'none'}"
        )
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
        raise UnsupportedObjectError(
            f"'{obj.name}' is a {obj.type}, which cannot take a geometry-nodes modifier"
        ) from e
    created = group is None
    modifier.node_group = _new_group(group_name) if created else group
    return ModifierAttached(
        object=obj.name, modifier=modifier.name, created_group=created, group=describe_group(modifier.node_group)
    )


def remove_node(group_name: str, node_name: str) -> GroupInfo:
    group = find_group(group_name)
    group.nodes.remove(_node(group, node_name))
    return describe_group(group)


def set_node_property(group_name: str, node_name: str, key: str, value: JsonValue) -> NodeInfo:
    node = _node(find_group(group_name), node_name)
    _set_property(node, key, value)
    return describe_node(node)


def _set_property(node: bpy.types.Node, key: str, value: JsonValue) -> None:
    settings = node_properties(node)
    prop = settings.get(key)
    if prop is None:
        raise GNBadValueError(
            f"node '{node.name}' ({node.bl_idname}) has no setting {key!r}; settings: {', '.join(settings) or 'none'}"
        )
    if prop.type == "ENUM":
        choices = [item.identifier for item in prop.enum_items]
        if value not in choices:
            raise GNBadValueError(
                f"setting {key!r} of node '{node.name}' takes one of: {', '.join(choices)}; got {value!r}"
            )
    try:
        setattr(node, key, value)
    except (TypeError, ValueError) as e:
        raise GNBadValueError(f"setting {key!r} of node '{node.name}' is a {prop.type}: {e}") from e


def add_node(
    group_name: str,
    node_type: str,
    name: str | None,
    location: tuple[float, float] | None,
    properties: dict[str, JsonValue],
) -> NodeInfo:
    group = find_group(group_name)
    if name is not None and name in group.nodes:
        raise GNNameTakenError(f"group '{group.name}' already has a node named {name!r}")
    try:
        node = group.nodes.new(node_type)
    except RuntimeError:
        valid = node_types()
        hint = ", ".join(closest(node_type, valid) or closest(node_type.removeprefix("GeometryNode"), valid))
        raise GNUnknownNodeTypeError(
            f"{node_type!r} is not a node type usable in a geometry-node tree. Closest valid types: {hint or 'none'}. "
            f"({len(valid)} types exist, named like GeometryNodeMeshGrid, GeometryNodeSetPosition, "
            "ShaderNodeMath, FunctionNodeRandomValue)"
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
    group = find_group(group_name)
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
        name = candidates[0].name
    for mod in candidates:
        if mod.name == name:
            if mod.node_group is None:
                raise GNUnknownGroupError(f"modifier '{mod.name}' of '{obj.name}' has no node group attached")
            return mod
    wanted = f" {name!r}" if name is not None else ""
    have = ", ".join(m.name for m in candidates) or "none (add one with gn_create_modifier)"
    raise GNUnknownGroupError(f"object '{obj.name}' has no geometry-nodes modifier{wanted}; it has: {have}")


def set_node_input(group_name: str, node_name: str, socket: str | int, value: JsonValue) -> InputSet:
    node = _node(find_group(group_name), node_name)
    target = find_socket(node, socket, is_input=True)
    what = f"node '{node.name}' input '{target.name}'"
    if not hasattr(target, "default_value") or getattr(target, "hide_value", False):
        raise GNBadValueError(f"{what} ({target.type}) has no value of its own; link something into it instead")
    if target.is_linked:
        raise GNBadValueError(f"{what} is linked, so its value is ignored; remove the link or set the source instead")
    before = plain(target.default_value)
    try:
        target.default_value = coerce(target.type, value, target.default_value, what)
    except (TypeError, ValueError) as e:  # e.g. a menu item the socket does not offer
        raise GNBadValueError(f"{what} refused {value!r}: {e}") from e
    return InputSet(target=what, before=before, after=plain(target.default_value))


def set_modifier_input(object_name: str, modifier_name: str | None, socket: str | int, value: JsonValue) -> InputSet:
    obj = find_object(object_name)
    modifier = _modifier(obj, modifier_name)
    inputs = [item for item in interface_sockets(modifier.node_group, "INPUT") if item.socket_type != "NodeSocketGeometry"]
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
    before = plain(current)
    try:
        modifier[item.identifier] = coerce(kind, value, current, what)
    except TypeError as e:
        raise GNBadValueError(f"{what} refused {value!r}: {e}") from e
    obj.update_tag()
    return InputSet(target=what, before=before, after=plain(modifier.get(item.identifier)))


def add_group_input(group_name: str, name: str, socket_type: str, default: JsonValue) -> InterfaceSocketInfo:
    group = find_group(group_name)
    taken = [item.name for item in interface_sockets(group, "INPUT")]
    if name in taken:
        raise GNNameTakenError(f"group '{group.name}' already has an input {name!r}; inputs: {', '.join(taken)}")
    item = group.interface.new_socket(name, in_out="INPUT", socket_type=INTERFACE_TYPES[socket_type])
    try:
        if default is not None:
            kind = kind_of_interface_socket(item.socket_type)
            item.default_value = coerce(kind, default, item.default_value, f"group input '{name}'")
    except Exception:
        group.interface.remove(item)
        raise
    _refresh_users(group, item)
    return describe_interface_socket(item)


def _refresh_users(group: bpy.types.NodeTree, item: object) -> None:
    """Give modifiers already using `group` the new input's default (Blender starts them at zero)."""
    group.interface_update(bpy.context)
    value = getattr(item, "default_value", None)
    for obj, mod in group_users(group):
        if value is not None and item.identifier in mod:
            mod[item.identifier] = value if isinstance(value, bpy.types.ID) else plain(value)
        obj.update_tag()
