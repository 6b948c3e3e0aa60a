"""Errors of the execution harness (pure Python: no Blender here).

    HarnessError                   something in the harness itself went wrong
     ├── CodeRejected              a snippet refused before it ran (syntax, size, policy);
     │                             carries the ErrorClass and ExceptionInfo for its report
     ├── PromptError               a prompt template and the variables given to it disagree (harness.prompt_files)
     ├── ImageDataError            base64 / data-URL text that is not a PNG or JPEG (harness.image_format)
     │    └── ImageDataTooLarge    it decodes to more bytes than the caller allows
     └── LaunchError               a worker process could not be started
          └── BlenderBinaryMissing the configured Blender executable does not exist / is not executable
"""

from __future__ import annotations

from harness.report import ErrorClass, ExceptionInfo

__all__ = ["HarnessError", "CodeRejected", "PromptError", "ImageDataError", "ImageDataTooLarge", "LaunchError",
           "BlenderBinaryMissing"]


class HarnessError(Exception):
    pass


class CodeRejected(HarnessError):
    def __init__(self, error_class: ErrorClass, info: ExceptionInfo) -> None:
        super().__init__(f"{info.type}: {info.message}")
        self.error_class = error_class
        self.info = info


class PromptError(HarnessError):
    pass


class ImageDataError(HarnessError):
    pass


class ImageDataTooLarge(ImageDataError):
    pass


class LaunchError(HarnessError):
    pass


class BlenderBinaryMissing(LaunchError):
    pass
