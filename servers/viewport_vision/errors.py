"""Errors the vision server reports to its MCP client (and to in-process callers).

Every message starts with a stable tag so the gateway and the coordinator can map it back::

    ToolError (fastmcp: the message the host model sees; anything else is masked)
     └── TaggedToolError (harness.tool_error)  [TAG] message
          └── VisionError    [VISION_ERROR]
               ├── ImageInputError        where an input image came from or what it holds
               │    ├── BadImageError          [BAD_IMAGE]          not decodable PNG/JPEG, bad base64 or data URL
               │    ├── ImageTooLargeError     [IMAGE_TOO_LARGE]    over the byte or pixel limits
               │    ├── ImageNotFoundError     [IMAGE_NOT_FOUND]    no file at that path
               │    └── PathOutsideRootsError  [PATH_OUTSIDE_ROOTS] path (after ../ and symlinks) outside the allowed roots
               ├── CompareInputError      [COMPARE_INPUT]      no common view, or aspect ratios that differ
               └── VerifierError          the VLM critique could not be obtained
                    ├── NoVerifierError        [NO_VERIFIER]          no `verifier` model role configured
                    ├── VerifierUnavailableError [VERIFIER_UNAVAILABLE] every model of the chain failed
                    └── VerifierOutputError    [VERIFIER_BAD_OUTPUT]  the reply was not valid JSON for the schema, even after one retry

Errors carry no silent fallbacks: a critique that fails never turns into a default score.
"""

from __future__ import annotations

from harness.tool_error import TaggedToolError

__all__ = [
    "VisionError",
    "ImageInputError",
    "BadImageError",
    "ImageTooLargeError",
    "ImageNotFoundError",
    "PathOutsideRootsError",
    "CompareInputError",
    "VerifierError",
    "NoVerifierError",
    "VerifierUnavailableError",
    "VerifierOutputError",
]


class VisionError(TaggedToolError):
    tag = "VISION_ERROR"


class ImageInputError(VisionError):
    tag = "BAD_IMAGE"


class BadImageError(ImageInputError):
    tag = "BAD_IMAGE"


class ImageTooLargeError(ImageInputError):
    tag = "IMAGE_TOO_LARGE"


class ImageNotFoundError(ImageInputError):
    tag = "IMAGE_NOT_FOUND"


class PathOutsideRootsError(ImageInputError):
    tag = "PATH_OUTSIDE_ROOTS"


class CompareInputError(VisionError):
    tag = "COMPARE_INPUT"


class VerifierError(VisionError):
    tag = "VERIFIER_ERROR"


class NoVerifierError(VerifierError):
    tag = "NO_VERIFIER"


class VerifierUnavailableError(VerifierError):
    tag = "VERIFIER_UNAVAILABLE"


class VerifierOutputError(VerifierError):
    tag = "VERIFIER_BAD_OUTPUT"
