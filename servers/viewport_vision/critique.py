"""The VLM critique (§3.4.3) through the `verifier` model role.

One request carries every render (and every reference image, labelled) as data URLs. The reply
must be the VerifierOutput JSON: a json_schema response_format is sent when the verifier chain
honours it, and the reply is validated either way. A reply that is not clean JSON is repaired
(code fences, prose around the object, trailing commas, extra keys); one that still fails is retried ONCE
with the error shown to the model; then the critique fails with [VERIFIER_BAD_OUTPUT]. There is
never a default score.

`investigate` is the same critique in turns: a verifier that can call tools may first ask for a
bounded number of extra looks (`LookRequest`); the caller, who has the scene, renders them and
asks again with the looks attached. This server never renders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.model_config import ModelConfigError
from harness.model_roles import ModelCallError, ModelRoles
from harness.prompt_files import PromptFiles
from harness.vision_types import CallLog, CritiqueTurn, Look, LookRequest, VerifierOutput, VerifierScores
from servers.viewport_vision.errors import NoVerifierError, VerifierOutputError, VerifierUnavailableError
from servers.viewport_vision.images import LoadedImage

__all__ = ["ROLE", "DEFAULT_RUBRIC", "LOOK_TOOL", "render_prompt", "build_messages", "parse_reply", "ReplyParseError",
           "critique", "investigate"]

ROLE = "verifier"
DEFAULT_RUBRIC = "composition, lighting, materials, goal_match (how well the scene matches the task)"
render_prompt = PromptFiles(Path(__file__).with_name("prompts")).render  # prompts/<name>.txt, strictly
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


class _Reply(BaseModel):
    """What the model must send: every field required; extra keys (a model's own notes) are dropped."""

    model_config = ConfigDict(extra="ignore")

    overall_score: float = Field(ge=0.0, le=1.0)
    is_complete: bool
    scores: VerifierScores
    issues: list[str]
    suggestions: list[str]
    positive_aspects: list[str]


_SCORE = {"type": "number", "minimum": 0.0, "maximum": 1.0}
_STRINGS = {"type": "array", "items": {"type": "string"}}
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "overall_score": _SCORE,
        "is_complete": {"type": "boolean"},
        "scores": {
            "type": "object",
            "properties": {k: _SCORE for k in ("composition", "lighting", "materials", "goal_match")},
            "required": ["composition", "lighting", "materials", "goal_match"],
            "additionalProperties": False,
        },
        "issues": _STRINGS,
        "suggestions": _STRINGS,
        "positive_aspects": _STRINGS,
    },
    "required": ["overall_score", "is_complete", "scores", "issues", "suggestions", "positive_aspects"],
    "additionalProperties": False,
}
RESPONSE_FORMAT = {"type": "json_schema", "json_schema": {"name": "verifier_output", "schema": REPLY_SCHEMA, "strict": True}}
LOOK_TOOL = {"type": "function", "function": {
    "name": "look", "description": "See the scene once more before judging: from another angle (orbit), one object "
                                   "close up (closeup) or one object alone (isolate).",
    "parameters": LookRequest.model_json_schema()}}


class ReplyParseError(ValueError):
    """The reply is not usable VerifierOutput JSON; the message is written for the model."""


def build_messages(
    images: Mapping[str, LoadedImage],
    task: str,
    reference: Mapping[str, LoadedImage] | None = None,
    rubric: str | None = None,
    looks: list[tuple[Look, LoadedImage | None]] = (),  # type: ignore[assignment]
) -> list[dict[str, Any]]:
    reference = reference or {}
    note = f"; then reference images ({', '.join(reference)})" if reference else ""
    parts: list[dict[str, Any]] = [{
        "type": "text",
        "text": render_prompt("critique_user", task=task, rubric=rubric or DEFAULT_RUBRIC,
                              render_views=", ".join(images), reference_note=note),
    }]
    for view, image in images.items():
        parts += [{"type": "text", "text": f"Render, view {view}:"}, _image_part(image)]
    for view, image in reference.items():
        parts += [{"type": "text", "text": f"Reference, view {view}:"}, _image_part(image)]
    for number, (look, image) in enumerate(looks, 1):
        parts.append({"type": "text", "text": f"Extra look {number} you asked for ({_describe(look.request)}):"
                      + (f" it could not be taken: {look.error}" if image is None else "")})
        if image is not None:
            parts.append(_image_part(image))
    system = render_prompt("critique_system", schema=json.dumps(REPLY_SCHEMA, indent=1))
    return [{"role": "system", "content": system}, {"role": "user", "content": parts}]


def parse_reply(text: str) -> _Reply:
    """Strict JSON first, then repairs: code fences, prose around the object, trailing commas."""
    if not text or not text.strip():
        raise ReplyParseError("the reply was empty")
    candidates = [text.strip()]
    if fenced := _FENCE.match(text):
        candidates.append(fenced.group(1).strip())
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    candidates.append(_TRAILING_COMMA.sub(r"\1", candidates[-1]))
    data: Any = None
    error = "no JSON object found in the reply"
    for candidate in candidates:
        try:
            data = json.loads(candidate)
            break
        except json.JSONDecodeError as e:
            error = f"invalid JSON: {e}"
    else:
        raise ReplyParseError(error)
    if not isinstance(data, dict):
        raise ReplyParseError(f"expected a JSON object, got {type(data).__name__}")
    try:
        return _Reply.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in e.errors())
        raise ReplyParseError(f"the JSON does not match the schema: {problems}") from None


async def critique(
    roles: ModelRoles | None,
    images: Mapping[str, LoadedImage],
    task: str,
    reference: Mapping[str, LoadedImage] | None = None,
    rubric: str | None = None,
) -> VerifierOutput:
    verdict = (await investigate(roles, images, task, reference, rubric)).verdict
    assert verdict is not None  # no looks offered: the turn is a verdict
    return verdict


async def investigate(
    roles: ModelRoles | None,
    images: Mapping[str, LoadedImage],
    task: str,
    reference: Mapping[str, LoadedImage] | None = None,
    rubric: str | None = None,
    looks: list[tuple[Look, LoadedImage | None]] = (),  # type: ignore[assignment]
    max_looks: int = 0,
) -> CritiqueTurn:
    """One turn: with `max_looks` left and a chain that can call tools, the model may ask for extra looks
    (the caller renders them and asks again, passing them in `looks`); otherwise it judges."""
    if roles is None or not roles.config.has_remote(ROLE):
        raise NoVerifierError(
            "no verifier model configured: set [models] verifier = [\"provider/model\", ...] in colossus.toml "
            "or COLOSSUS_MODELS_VERIFIER; the offline `metrics` verifier is compare + sentinel"
        )
    messages = build_messages(images, task, reference, rubric, looks)
    params: dict[str, Any] = {}
    if max_looks > 0 and roles.supports_tools(ROLE):
        messages[-1]["content"].append({"type": "text", "text": render_prompt("critique_looks", left=max_looks)})
        params["tools"] = [LOOK_TOOL]
    message, log = await _call(roles, messages, **params)
    wanted, bad = _look_requests(message)
    log.errors += bad
    if wanted and max_looks > 0:
        return CritiqueTurn(looks=wanted[:max_looks], calls=[log])
    text = message["content"]
    taken = [look for look, _ in looks]
    try:
        return CritiqueTurn(verdict=_output(parse_reply(text), [log], [text], taken))
    except ReplyParseError as first:
        log.errors.append(f"parse: {first}")
        messages += [
            {"role": "assistant", "content": text},
            {"role": "user", "content": render_prompt("critique_retry", error=str(first))},
        ]
        retry, retry_log = await _call(roles, messages)
        retry_text = retry["content"]
        retry_log.attempts = 2
        try:
            return CritiqueTurn(verdict=_output(parse_reply(retry_text), [log, retry_log], [text, retry_text], taken))
        except ReplyParseError as second:
            raise VerifierOutputError(
                f"{retry_log.model} replied with unusable JSON twice. First: {first}. After the retry: {second}. "
                f"Reply began: {retry_text[:200]!r}"
            ) from None


def _look_requests(message: dict[str, Any]) -> tuple[list[LookRequest], list[str]]:
    """The looks a reply asks for, and what was wrong with the calls that could not be read."""
    wanted, bad = [], []
    for call in message.get("tool_calls") or ():
        try:
            wanted.append(LookRequest.model_validate_json(call["function"]["arguments"] or "{}"))
        except ValidationError as e:
            bad.append(f"look: unusable arguments {call['function']['arguments'][:200]!r}: {e.error_count()} error(s)")
    return wanted, bad


def _describe(request: LookRequest) -> str:
    if request.kind == "orbit":
        return f"the {request.view} view turned {request.azimuth:+.0f}° around and {request.elevation:+.0f}° up"
    return f"{request.object} {'close up' if request.kind == 'closeup' else 'alone'}, from the {request.view} view"


async def _call(roles: ModelRoles, messages: list[dict[str, Any]], **params: Any) -> tuple[dict[str, Any], CallLog]:
    try:
        return await roles.respond(ROLE, messages, response_format=RESPONSE_FORMAT, **params)
    except ModelCallError as e:  # the message carries each failed model's own error: the log does not cross MCP
        raise VerifierUnavailableError(f"{e}; errors: {' | '.join(e.log.errors)}") from e
    except ModelConfigError as e:
        raise NoVerifierError(str(e)) from e


def _output(reply: _Reply, calls: list[CallLog], raw: list[str], looks: list[Look]) -> VerifierOutput:
    return VerifierOutput(**reply.model_dump(), calls=calls, raw_replies=raw, looks=looks)


def _image_part(image: LoadedImage) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": image.data_url()}}
