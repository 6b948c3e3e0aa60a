"""The `# param lo..hi` literals of a program: find them, and write new values back exactly.

    size = (1.0, 1.0, 1.0)  # param 0.2..3.0     a tuple: one dimension per component
    offset_x = 0.0  # param -1.5..1.5           a scalar

Only the literal's source span is replaced (from the AST's positions), so comments, spacing and
every other byte of the program stay as they were. Integer literals stay integers.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from orchestrator.errors import ParamError

__all__ = ["Param", "find_params", "apply_values", "skeleton"]

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_MARKER = re.compile(r"#\s*param\b\s*(?P<rest>.*)$")
_RANGE = re.compile(rf"^(?P<lo>{_NUM})\s*\.\.\s*(?P<hi>{_NUM})\b")


class Param(BaseModel):
    model_config = ConfigDict(frozen=True)  # shared through the parse cache

    name: str
    lo: float
    hi: float
    value: list[float]
    is_int: list[bool]
    is_tuple: bool
    line: int  # 1-based
    span: tuple[int, int, int, int]  # (lineno, col, end_lineno, end_col) of the literal, cols in UTF-8 bytes

    @property
    def dims(self) -> int:
        return len(self.value)


def _number(node: ast.expr) -> int | float | None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _number(node.operand)
        if inner is not None:
            return -inner if isinstance(node.op, ast.USub) else inner
    return None


def _comments(code: str) -> dict[int, str]:
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError) as e:
        raise ParamError(f"program does not tokenize: {e}") from None
    return out


def find_params(code: str) -> list[Param]:
    """Every `# param` literal of a module-level or nested simple assignment, in source order."""
    return list(_find_params(code))


@lru_cache(maxsize=4096)  # a pure function of the text; the search asks it for every step of the history
def _find_params(code: str) -> tuple[Param, ...]:
    comments = {ln: c for ln, c in _comments(code).items() if _MARKER.search(c)}
    if not comments:
        return ()
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        raise ParamError(f"program does not parse: {e.msg} (line {e.lineno})") from None
    last_on_line: dict[int, ast.stmt] = {}  # the comment belongs to the last statement ending on its line
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and (node.end_lineno or node.lineno) in comments:
            line = node.end_lineno or node.lineno
            if line not in last_on_line or node.col_offset > last_on_line[line].col_offset:
                last_on_line[line] = node
    found: dict[int, Param] = {}
    for node in last_on_line.values():
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        comment = comments[node.end_lineno or node.lineno]
        name = node.targets[0].id
        rng = _RANGE.match(_MARKER.search(comment).group("rest").strip())
        if rng is None:
            raise ParamError(f"line {node.lineno}: `# param` on {name!r} needs a range `lo..hi`, got {comment!r}")
        lo, hi = float(rng.group("lo")), float(rng.group("hi"))
        if not lo < hi:
            raise ParamError(f"line {node.lineno}: param {name!r} has an empty range {lo}..{hi}")
        parts = node.value.elts if isinstance(node.value, (ast.Tuple, ast.List)) else [node.value]
        values = [_number(p) for p in parts]
        if not values or any(v is None for v in values):
            raise ParamError(f"line {node.lineno}: param {name!r} must be a number or a tuple of numbers")
        v = node.value
        found[node.lineno] = Param(
            name=name, lo=lo, hi=hi, value=[float(x) for x in values], is_int=[isinstance(x, int) for x in values],
            is_tuple=isinstance(v, (ast.Tuple, ast.List)), line=node.lineno,
            span=(v.lineno, v.col_offset, v.end_lineno or v.lineno, v.end_col_offset or 0),
        )
    unused = sorted(set(comments) - {p.span[2] for p in found.values()})
    if unused:
        raise ParamError(f"line {unused[0]}: `# param` marker is not on a simple `name = literal` assignment")
    return tuple(found[k] for k in sorted(found))


def _literal(param: Param, values: list[float]) -> str:
    parts = [str(int(round(v))) if is_int else repr(round(v, 4)) for v, is_int in zip(values, param.is_int)]
    if not param.is_tuple:
        return parts[0]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def apply_values(code: str, values: dict[str, list[float]]) -> str:
    """The program with the named params set to `values` (clipped to their ranges); nothing else changes."""
    params = {p.name: p for p in find_params(code)}
    unknown = set(values) - set(params)
    if unknown:
        raise ParamError(f"unknown params: {', '.join(sorted(unknown))}")
    lines = [line.encode("utf-8") for line in code.splitlines(keepends=True)]
    # edit from the bottom up so earlier spans stay valid
    for name in sorted(values, key=lambda n: params[n].span, reverse=True):
        p, new = params[name], values[name]
        if len(new) != p.dims:
            raise ParamError(f"param {name!r} has {p.dims} component(s), got {len(new)}")
        text = _literal(p, [min(p.hi, max(p.lo, float(v))) for v in new]).encode("utf-8")
        l0, c0, l1, c1 = p.span
        head, tail = lines[l0 - 1][:c0], lines[l1 - 1][c1:]
        lines[l0 - 1 : l1] = [head + text + tail]
    return b"".join(lines).decode("utf-8")


@lru_cache(maxsize=4096)
def skeleton(code: str) -> str:
    """The program with every param literal blanked: equal skeletons mean the same family of programs."""
    params = find_params(code)
    lines = code.splitlines(keepends=True)
    for p in sorted(params, key=lambda q: q.span, reverse=True):
        raw = [ln.encode("utf-8") for ln in lines]
        l0, c0, l1, c1 = p.span
        raw[l0 - 1 : l1] = [raw[l0 - 1][:c0] + b"_" + raw[l1 - 1][c1:]]
        lines = [r.decode("utf-8") for r in raw]
    return "".join(lines)
