"""Failures of the coordinator, split by who caused them.

    OrchestratorError                 base: something in orchestrator/ went wrong
    ├── TaskError                     a task file or inline task is invalid (names the field and the file)
    ├── ParamError                    a program's `# param` markers are malformed or values out of shape
    ├── ModelFault                    the MODEL caused it: fed back to the builder as feedback, never raised out of an attempt
    │   ├── NoCodeError               the builder's reply held no python code
    │   └── PatchError                a fixer's unified diff does not apply (orchestrator.patch)
    ├── SearchConverged               the run's shared search reached the threshold: the attempt stops, converged
    ├── AttemptStopped                WE caused it: the attempt stops, its completed iterations are kept
    │   ├── SceneFault                the scene (pool worker) failed outside the model's code: reset, render, info
    │   ├── VerifierFault             the vision server failed to score renders
    │   └── BuilderUnavailable        every model of the builder role failed (the fallback chain is exhausted)
    ├── PromptError                   a prompt template and its variables disagree (missing, unknown, malformed)
    ├── AssetError                    asset finalization stopped; the text names the stage (orchestrator.assets.pipeline)
    │   └── ProfileError              unknown profile, unknown key, impossible budget (names the file and the key)
    ├── RunNotFound                   no run with that id under the runs directory
    └── ForkError                     a fork point that does not exist or did not run (names the ones that do)

Foreign exceptions are translated into these at exactly one boundary per seam (`raise ... from e`).
"""

from __future__ import annotations

__all__ = [
    "OrchestratorError",
    "TaskError",
    "ParamError",
    "ModelFault",
    "NoCodeError",
    "SearchConverged",
    "AttemptStopped",
    "SceneFault",
    "VerifierFault",
    "BuilderUnavailable",
    "PromptError",
    "RunNotFound",
    "AssetError",
    "ProfileError",
    "ForkError",
]


class OrchestratorError(Exception):
    """Base of every coordinator failure."""


class TaskError(OrchestratorError):
    """The task is invalid; the message names the field and the file."""


class ParamError(OrchestratorError):
    """A `# param` marker is malformed, or new values do not fit the parameter's shape."""


class ModelFault(OrchestratorError):
    """The model's output caused this; it goes back to the model as feedback."""


class SearchConverged(OrchestratorError):
    """The evaluations this attempt's next proposal sees reached the threshold (orchestrator.builders.siblings)."""


class NoCodeError(ModelFault):
    """The reply held no ```python block and did not parse as python."""


class AttemptStopped(OrchestratorError):
    """A failure on our side: the attempt stops, keeping what it completed."""


class SceneFault(AttemptStopped):
    """The leased scene failed in reset, render, info or save."""


class VerifierFault(AttemptStopped):
    """The vision server could not score the renders."""


class BuilderUnavailable(AttemptStopped):
    """Every model of the builder role failed; `log` is the failed call's CallLog when known."""

    log: object | None = None


class PromptError(OrchestratorError):
    """A prompt template and the variables given to it disagree (from harness.prompt_files)."""


class RunNotFound(OrchestratorError):
    """No run with that id exists under the runs directory."""


class AssetError(OrchestratorError):
    """Finalizing an asset stopped: a bad source, a failed stage or an unwritable output; nothing was published."""


class ProfileError(AssetError):
    """A finalize profile is unknown or invalid; the message names the file and the key."""


class ForkError(OrchestratorError):
    """The attempt or iteration to fork from does not exist, or its program did not run; the message
    names what the run has."""
