"""Geometry-node tools (BL-07): build and edit node trees call by call instead of writing bpy code.

A client attaches a group to an object as a NODES modifier, adds nodes by type id, links sockets
by name or index, sets values, exposes group inputs to parameterise the modifier, and reads the
whole tree back with gn_describe. Every wrong name comes back with the valid choices.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

from servers.blender_primary.errors import BadArgumentError
from servers.blender_primary.geonodes_edit import (
    INTERFACE_TYPES,
    InputSet,
    ModifierAttached,
    add_group_input,
    add_node,
    create_modifier,
    find_group,
    link,
    remove_node,
    set_modifier_input,
    set_node_input,
    set_node_property,
)
from servers.blender_primary.geonodes_sockets import (
    GroupInfo,
    InterfaceSocketInfo,
    JsonValue,
    LinkInfo,
    NodeInfo,
    describe_group,
)

__all__ = ["register"]

GroupName = Annotated[str, Field(min_length=1, max_length=63, description="node group name")]
NodeName = Annotated[str, Field(min_length=1, max_length=63, description="node name as shown by gn_describe")]
SocketKey = Annotated[str | int, Field(description="socket name (or identifier) or its index from gn_describe")]


def register(mcp: FastMCP) -> None:
    """Add the geometry-node tools to the worker's server."""

    @mcp.tool(timeout=30, output_schema=None)
    async def gn_create_modifier(
        object_name: Annotated[str, Field(description="object to add the modifier to")],
        group_name: GroupName,
        modifier_name: Annotated[str | None, Field(max_length=63, description="defaults to the group name")] = None,
    ) -> ModifierAttached:
        """Attach a geometry-nodes modifier with a node group of that name (new: Group Input → Group Output; an
        existing group is reused); returns the group as gn_describe would."""
        return create_modifier(object_name, group_name, modifier_name)

    @mcp.tool(timeout=30, output_schema=None)
    async def gn_add_node(
        group: GroupName,
        node_type: Annotated[
            str, Field(description="node type id, e.g. GeometryNodeMeshGrid, GeometryNodeSetPosition, ShaderNodeMath")
        ],
        name: Annotated[
            str | None,
            Field(max_length=63, description="a unique name to refer to the node; Blender picks one when omitted"),
        ] = None,
        location: Annotated[tuple[float, float] | None, Field(description="editor position, cosmetic")] = None,
        properties: Annotated[
            dict[str, JsonValue] | None,
            Field(
                description='node settings, e.g. {"operation": "MULTIPLY"} for ShaderNodeMath or {"data_type": "FLOAT"}'
            ),
        ] = None,
    ) -> NodeInfo:
        """Add one node to a geometry-node group; returns its name, settings and sockets."""
        return add_node(group, node_type, name, location, properties or {})

    @mcp.tool(timeout=30)
    async def gn_link(
        group: GroupName, from_node: NodeName, from_socket: SocketKey, to_node: NodeName, to_socket: SocketKey
    ) -> LinkInfo:
        """Link an output socket of one node to an input socket of another (sockets by name or index); replaces an
        existing link into that input."""
        return link(group, from_node, from_socket, to_node, to_socket)

    @mcp.tool(timeout=30, output_schema=None)
    async def gn_remove_node(group: GroupName, node: NodeName) -> GroupInfo:
        """Delete a node and every link touching it; returns the group as gn_describe would."""
        return remove_node(group, node)

    @mcp.tool(timeout=30)
    async def gn_set_input(
        value: Annotated[
            JsonValue,
            Field(
                description="number, integer, true/false, string, a list for vectors and colours, or an object/material name"
            ),
        ],
        socket: SocketKey,
        group: Annotated[
            str | None, Field(description="with node: set a node input's default value in this group")
        ] = None,
        node: Annotated[str | None, Field(description="node name in `group`")] = None,
        object_name: Annotated[
            str | None,
            Field(description="instead of group+node: set an input of this object's geometry-nodes modifier"),
        ] = None,
        modifier: Annotated[
            str | None, Field(description="modifier name; the object's first geometry-nodes modifier when omitted")
        ] = None,
    ) -> InputSet:
        """Set a node input's default (group + node + socket) or a group input on an object's modifier (object_name
        + socket); returns the value before and after."""
        if object_name is not None and group is None and node is None:
            return set_modifier_input(object_name, modifier, socket, value)
        if group is not None and node is not None and object_name is None:
            return set_node_input(group, node, socket, value)
        raise BadArgumentError("give either group and node (a node input) or object_name (a modifier input), not both")

    @mcp.tool(timeout=30, output_schema=None)
    async def gn_set_node_property(group: GroupName, node: NodeName, property: str, value: JsonValue) -> NodeInfo:
        """Change a node's setting (not a socket), e.g. ShaderNodeMath 'operation'; a bad value lists the allowed
        ones."""
        return set_node_property(group, node, property, value)

    @mcp.tool(timeout=30)
    async def gn_add_group_input(
        group: GroupName,
        name: Annotated[str, Field(min_length=1, max_length=63)],
        socket_type: Literal[tuple(INTERFACE_TYPES)],  # type: ignore[valid-type]
        default: Annotated[
            JsonValue, Field(description="default value; modifiers already using the group get it too")
        ] = None,
    ) -> InterfaceSocketInfo:
        """Expose a new input on a group, settable per object with gn_set_input(object_name=...)."""
        return add_group_input(group, name, socket_type, default)

    @mcp.tool(timeout=30, output_schema=None, annotations={"readOnlyHint": True})
    async def gn_describe(group: GroupName) -> GroupInfo:
        """The whole tree of a geometry-node group: interface, nodes with settings and sockets, links, and the
        modifiers using it."""
        return describe_group(find_group(group))
