"""Checks a snippet before anything touches Blender: size, syntax (with line and column), policy.

The policy looks at the AST for the ways a snippet reaches outside the scene: importing os,
subprocess, socket, shutil, ctypes, or using open / eval / exec / compile / __import__. `log` (default) records a
warning per use and lets the code run; `block` refuses it. It is a tripwire for model-written
code, not a sandbox: Blender's Python can reach the system in other ways.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from enum import Enum

from harness.errors import CodeRejected
from harness.report import ErrorClass, ExceptionInfo

__all__ = ["MAX_CODE_BYTES", "SNIPPET_FILENAME", "RANDOM_SEED", "Policy", "ValidatedCode", "validate"]

MAX_CODE_BYTES = 1_000_000
SNIPPET_FILENAME = "<snippet>"
RANDOM_SEED = 0  # `random` is seeded with this before every snippet: the same program builds the same scene
RISKY_MODULES = frozenset({"os", "subprocess", "socket", "shutil", "ctypes"})
RISKY_CALLS = frozenset({"open", "eval", "exec", "__import__", "compile"})


class Policy(str, Enum):
    LOG = "log"
    BLOCK = "block"


@dataclass(frozen=True)
class ValidatedCode:
    tree: ast.Module
    warnings: list[str] = field(default_factory=list)


def validate(code: str, policy: Policy = Policy.LOG) -> ValidatedCode:
    """Parse `code`; raise CodeRejected (SYNTAX or POLICY) or return the tree and policy warnings."""
    size = len(code.encode("utf-8", errors="replace"))
    if size > MAX_CODE_BYTES:
        raise CodeRejected(
            ErrorClass.POLICY,
            ExceptionInfo(type="CodeTooLarge", message=f"code is {size} bytes; the limit is {MAX_CODE_BYTES} bytes (1 MB)"),
        )
    try:
        tree = ast.parse(code, filename=SNIPPET_FILENAME, mode="exec")
    except SyntaxError as exc:
        raise CodeRejected(
            ErrorClass.SYNTAX,
            ExceptionInfo(type=type(exc).__name__, message=exc.msg or str(exc), line=exc.lineno, column=exc.offset),
        ) from exc
    except ValueError as exc:  # e.g. null bytes in the source
        raise CodeRejected(ErrorClass.SYNTAX, ExceptionInfo(type="SyntaxError", message=str(exc))) from exc
    findings = _risky_uses(tree)
    if findings and Policy(policy) is Policy.BLOCK:
        line, what = findings[0]
        raise CodeRejected(
            ErrorClass.POLICY,
            ExceptionInfo(type="PolicyViolation", message=f"{what} is not allowed by the block policy", line=line),
        )
    return ValidatedCode(tree, [f"line {line}: {what} (policy: log)" for line, what in findings])


def _risky_uses(tree: ast.Module) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"imports {a.name}") for a in node.names if a.name.split(".")[0] in RISKY_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in RISKY_MODULES:
            found.append((node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.Name) and node.id in RISKY_CALLS:
            found.append((node.lineno, f"uses {node.id}"))
    return sorted(found)
