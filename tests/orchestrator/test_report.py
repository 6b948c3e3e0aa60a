"""report.html: a self-contained page whose images load from the run folder wherever it lies, with
every piece of task, code, model and error text inert; checked as parsed HTML (no browser in CI)."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from harness.report import ErrorClass, ExceptionInfo, ExecutionReport
from harness.vision_types import CallLog, VerifierOutput, VerifierScores
from orchestrator.artifacts import RunFolder
from orchestrator.memory import AttemptMemory, ExecutionRecord, IterationStep
from orchestrator.report import score_svg, write_report
from orchestrator.run_status import attempt_view
from orchestrator.state import AttemptState, Strategy
from orchestrator.task import Task, load_task

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
HOSTILE = '<script>alert("task")</script> & <img src=x onerror=alert(1)>'
CODE = 'import bpy\nif 1 < 2:\n    s = "</pre><script>alert(\'code\')</script>"\n'


class Page(HTMLParser):
    """The parsed page: elements with their attributes, the text, and which section each sits in."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.sections: list[tuple[dict[str, str], list[str]]] = []  # (attributes, text inside)
        self.labels: list[tuple[dict[str, str], str]] = []  # SVG <text> elements
        self.rows: dict[str, int] = {}  # table class → its rows
        self._table = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag == "section":
            self.sections.append((a, []))
        elif tag == "table":
            self._table = a.get("class", "")
        elif tag == "tr":
            self.rows[self._table] = self.rows.get(self._table, 0) + 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.elements and self.elements[-1][0] == "text":
            self.labels.append((self.elements[-1][1], data))
        if self.sections:
            self.sections[-1][1].append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag]

    def section(self, id_: str) -> tuple[dict[str, str], str]:
        attrs, text = next(s for s in self.sections if s[0].get("id") == id_)
        return attrs, "".join(text)


def _step(folder: RunFolder, attempt: int, index: int, score: float, png: bytes, code: str = CODE) -> IterationStep:
    """An iteration that rendered: its PNGs and code are real files where the loop puts them."""
    (folder.iter_dir(attempt, index) / "renders").mkdir(parents=True)
    (folder.iter_dir(attempt, index) / "code.py").write_text(code)
    renders = {}
    for view in ("front", "top"):
        path = folder.renders_dir(attempt, index) / f"{view}.png"
        path.write_bytes(png)
        renders[view] = str(path)
    ok = ExecutionReport(success=True)
    return IterationStep(index=index, plan="plan <b>bold?</b>", code=code, score=score, renders=renders,
                         executions=[ExecutionRecord(code=code, report=ok)])


def _failed(folder: RunFolder, attempt: int, index: int, message: str) -> IterationStep:
    folder.iter_dir(attempt, index).mkdir(parents=True)
    (folder.iter_dir(attempt, index) / "code.py").write_text("raise ValueError()")
    error = ExceptionInfo(type="ValueError", message=message, traceback=f"Traceback\nValueError: {message}")
    report = ExecutionReport(success=False, error_class=ErrorClass.RUNTIME, exception=error)
    code = "raise ValueError()"
    return IterationStep(index=index, code=code, executions=[ExecutionRecord(code=code, report=report)])


def _attempt(index: int, steps: list[IterationStep], status: str = "exhausted", error: str | None = None) -> AttemptState:
    return AttemptState(index=index, strategy=Strategy(index=index), status=status, error=error,
                        memory=AttemptMemory(steps=steps))


@pytest.fixture
def task() -> Task:
    return load_task(CUBE).model_copy(update={"name": "cube <i>", "description": HOSTILE})


def _run(tmp_path: Path, task: Task, png: bytes) -> tuple[RunFolder, dict[int, AttemptState], dict]:
    folder = RunFolder.create(tmp_path / "runs", task)
    folder.write_run({"status": "completed", "config": {"builder": "llm", "verifier": "metrics", "threshold": 0.9}})
    call = CallLog(role="builder", model="openai/<b>m</b>", fallbacks_taken=1, tokens_in=10, tokens_out=5,
                   latency_ms=12.0, errors=["openai/down: <em>500</em>"])
    s0, s2 = _step(folder, 0, 0, 0.5, png), _step(folder, 0, 2, 0.93, png)
    s0.calls = [call]
    s2.critique = VerifierOutput(overall_score=0.7, is_complete=False, issues=["legs <b>missing</b>"], suggestions=["add legs"],
                                 scores=VerifierScores(composition=0.8, lighting=0.6, materials=0.5, goal_match=0.7))
    states = {0: _attempt(0, [s0, _failed(folder, 0, 1, "<img src=x onerror=alert(2)>"), s2], "converged"),
              1: _attempt(1, [_step(folder, 1, 0, 0.4, png)]), 2: _attempt(2, [], "skipped")}
    best = {"attempt": 0, "iteration": 2, "score": 0.93, "renders": {v: folder.rel(p) for v, p in s2.renders.items()}}
    return folder, states, best


def _page(folder: RunFolder) -> Page:
    return Page((folder.root / "report.html").read_text())


def test_the_page_runs_no_script_and_fetches_nothing_from_outside_the_run_folder(tmp_path: Path, task: Task, png: bytes):
    folder, states, best = _run(tmp_path, task, png)
    write_report(folder, task, states, best, 0.9)
    page = _page(folder)
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    assert not [a for _, attrs in page.elements for a in attrs if a.startswith("on")], "no event handler attributes"
    srcs = [a["src"] for a in page.all("img")]
    assert len(srcs) == 2 + 2 + 3 + 2  # references, best renders, then per attempt its best and its rendered iterations
    links = [a["href"] for a in page.all("a") if not a["href"].startswith("#")]  # renders full size, iterations' code
    assert len(links) == 4 + 3 + 2, links  # the 4 iterations' captions, the 3 rendered ones' images, each attempt's best
    for src in srcs + links:
        assert "://" not in src and not src.startswith(("/", "data:")), src
        assert (folder.root / unquote(src)).is_file(), src
    assert "ref/front.png" in srcs


def test_task_code_model_and_error_text_is_shown_as_text_not_markup(tmp_path: Path, task: Task, png: bytes):
    folder, states, best = _run(tmp_path, task, png)
    write_report(folder, task, states, best, 0.9)
    page = _page(folder)
    text = "".join(page.text)
    assert HOSTILE in text and CODE in text and "cube <i>" in text
    assert "openai/<b>m</b>" in text and "openai/down: <em>500</em>" in text
    assert "ValueError: <img src=x onerror=alert(2)>" in text, "a failed iteration says why, literally"
    assert "legs <b>missing</b>" in text and "goal match 0.70" in text, "the best iteration's critique"
    assert not page.all("i") and not page.all("em") and len(page.all("b")) == 1, "the run status is the only bold text"
    assert "x" not in [a["src"] for a in page.all("img")]


def test_images_load_from_a_moved_run_folder(tmp_path: Path, task: Task, png: bytes):
    folder, states, best = _run(tmp_path, task, png)
    moved = RunFolder(shutil.move(str(folder.root), tmp_path / "elsewhere"))
    # the states still record the renders' absolute paths at the old place, as a checkpoint does
    write_report(moved, task, states, best, 0.9)
    srcs = [unquote(a["src"]) for a in _page(moved).all("img")]
    assert srcs and all(not Path(s).is_absolute() and (moved.root / s).is_file() for s in srcs), srcs


def test_the_best_attempt_is_marked_and_a_failed_iteration_shows_in_strip_curve_and_error_list(tmp_path: Path, task: Task,
                                                                                             png: bytes):
    folder, states, best = _run(tmp_path, task, png)
    write_report(folder, task, states, best, 0.9)
    page = _page(folder)
    win, win_text = page.section("attempt-0")
    other, other_text = page.section("attempt-1")
    assert "win" in win["class"].split() and "win" not in other["class"].split()
    assert "best of the run" in win_text and "best of the run" not in other_text
    assert "iter 1 · failed" in win_text and "1 iteration(s) with errors" in win_text
    assert "iteration 1: failed" in win_text, "the score curve marks the failure instead of plotting a zero"
    assert "Best: attempt 0, iteration 2 — score 0.930" in "".join(page.text)
    assert "skipped" in page.section("attempt-2")[1], "an attempt that never ran still has its card"
    assert "Winning code" in "".join(page.text)


def test_an_attempt_the_shared_search_converged_without_says_why(tmp_path: Path, task: Task, png: bytes):
    folder, states, best = _run(tmp_path, task, png)
    states[1].status = "converged"  # its own best is 0.4: the search reached the threshold on attempt 0's renders
    states[2] = _attempt(2, [], "converged")
    write_report(folder, task, states, best, 0.9)
    page = _page(folder)
    assert "reached the threshold on the other attempts' renders." in page.section("attempt-1")[1]
    assert "before it needed this one" in page.section("attempt-2")[1]
    assert "share one search" not in page.section("attempt-0")[1]  # converged on its own best
    notes = [attempt_view(states[i], 0.9).note or "" for i in range(3)]  # what get_run and the dashboard's card say
    assert notes[0] == "" and notes[1].endswith("other attempts' renders.") and "before it needed" in notes[2]


def test_the_model_log_has_a_row_per_call_and_totals(tmp_path: Path, task: Task, png: bytes):
    folder, states, best = _run(tmp_path, task, png)
    write_report(folder, task, states, best, 0.9)
    page = _page(folder)
    assert page.rows["log"] == 1 + 1  # the header and the one call
    assert "1 call(s) · 1 with fallbacks · tokens 10 in / 5 out" in "".join(page.text)


def test_a_run_where_nothing_rendered_says_so_and_why(tmp_path: Path, task: Task):
    folder = RunFolder.create(tmp_path / "runs", task)
    folder.write_run({"status": "failed", "config": {}})
    state = _attempt(0, [_failed(folder, 0, 0, "no cube")], "failed", error="scene lost: worker <3> died")
    write_report(folder, task, {0: state}, None, 0.9)
    page = _page(folder)
    text = "".join(page.text)
    assert "No iteration produced renders" in text and "First failure: ValueError: no cube" in text
    assert "Attempt stopped: scene lost: worker <3> died" in text
    assert [a["src"] for a in page.all("img")] == ["ref/front.png", "ref/top.png"], "the references are still shown"


def test_the_score_curve_of_a_long_attempt_keeps_its_size_and_a_readable_axis():
    points = [(i, (i % 50) / 50) for i in range(600)]
    svg = Page(score_svg(points, 0.85, best=49))
    (root,) = svg.all("svg")
    assert root["width"] == "560" and root["height"] == "170"
    x_labels = [text for attrs, text in svg.labels if attrs.get("text-anchor") == "middle" and text.isdigit()]
    assert x_labels[0] == "0" and x_labels[-1] == "599" and len(x_labels) <= 11
    assert "threshold 0.85" in svg.text and len(svg.all("circle")) == 1, "only the best point is ringed past 120 points"
