"""Attempt memory: a sliding window of full steps, summaries of older ones, images only for the newest."""

from pathlib import Path

from harness.report import ErrorClass, ExceptionInfo, ExecutionReport
from harness.vision_types import SentinelIssue, SentinelReport
from orchestrator.memory import AttemptMemory, ExecutionRecord, IterationStep
from tests.orchestrator.conftest import PNG


def step(i: int, tmp_path: Path, ok: bool = True) -> IterationStep:
    img = tmp_path / f"{i}.png"
    img.write_bytes(PNG)
    report = ExecutionReport(success=ok) if ok else ExecutionReport(
        success=False, error_class=ErrorClass.RUNTIME, exception=ExceptionInfo(type="NameError", message="x"))
    return IterationStep(index=i, builder="llm", plan=f"plan {i}\nmore", code=f"v = {i}\n", score=i / 10,
                         executions=[ExecutionRecord(code=f"v = {i}\n", report=report)],
                         renders={"front": str(img)} if ok else {},
                         sentinel=SentinelReport(passed=False, issues=[SentinelIssue(
                             category="floating", severity="error", message="cube floats", suggested_tool="transform_to_floor")]))


def test_the_window_keeps_the_last_steps_in_full_and_summarises_the_rest(tmp_path):
    memory = AttemptMemory(window=3)
    for i in range(5):
        memory.add(step(i, tmp_path))
    messages = memory.to_messages()
    assert messages[0]["role"] == "user" and "Iteration 0" in messages[0]["content"] and "Iteration 1" in messages[0]["content"]
    assert [m["content"] for m in messages if m["role"] == "assistant"] == [
        f"Plan: plan {i}\nmore\n```python\nv = {i}\n\n```" for i in (2, 3, 4)]
    images = [p for m in messages if isinstance(m["content"], list) for p in m["content"] if p["type"] == "image_url"]
    assert len(images) == 1 and images[0]["image_url"]["url"].startswith("data:image/png;base64,")


def test_a_stored_summary_replaces_the_extractive_one(tmp_path):
    memory = AttemptMemory(window=1)
    for i in range(3):
        memory.add(step(i, tmp_path))
    assert [s.index for s in memory.unsummarised()] == [0, 1]
    memory.summaries[0] = "SUMMARY ZERO"
    assert "SUMMARY ZERO" in memory.to_messages()[0]["content"]


def test_feedback_carries_sentinel_issues_with_their_tool_and_the_error(tmp_path):
    failed = step(0, tmp_path, ok=False)
    text = failed.feedback()
    assert "RUNTIME: NameError: x" in text and "try transform_to_floor" in text
    assert "failed (RUNTIME)" in failed.summary()


def test_best_ignores_steps_whose_code_did_not_run(tmp_path):
    memory = AttemptMemory()
    bad = step(9, tmp_path, ok=False)
    bad.score = 0.99
    memory.add(step(1, tmp_path))
    memory.add(bad)
    assert memory.best().index == 1
    assert AttemptMemory.model_validate_json(memory.model_dump_json()) == memory
