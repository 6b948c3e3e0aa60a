"""Builders write programs: `parametric` (offline search), `llm` (builder model role), `hybrid` (both)."""

from orchestrator.builders.interface import Builder, BuildContext, Proposal

__all__ = ["Builder", "BuildContext", "Proposal"]
