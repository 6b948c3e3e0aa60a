"""`colossus models check`, alone and before a run, against a real local OpenAI-compatible server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main
from tests.fakes.openai_server import FakeOpenAIServer, Reply, openai_server  # noqa: F401  (fixture)

PROJECT = Path(__file__).resolve().parents[2]
CUBE = PROJECT / "tests" / "orchestrator" / "data" / "cube" / "task.toml"


def _config(tmp_path: Path, fake: FakeOpenAIServer, builder: list[str]) -> Path:
    remote = [m for m in builder if "/" in m]
    lines = ["[models]", f"builder = {json.dumps(builder)}"]
    for m in remote:
        lines += [f'[models.settings."{m}"]', f'api_base = "{fake.base_url}"', 'api_key = "k"']
    path = tmp_path / "colossus.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_check_lists_each_model_with_its_answer_or_its_error(tmp_path, openai_server, capfd) -> None:
    openai_server.script("up", "ok")
    openai_server.script("down", Reply(status=503, text="maintenance window"))
    config = _config(tmp_path, openai_server, ["openai/up", "openai/down", "parametric"])
    assert main(["models", "check", "--config", str(config), "--json"]) == 1
    rows = {r["model"]: r for r in json.loads(capfd.readouterr().out)}
    assert rows["openai/up"]["ok"] and rows["openai/up"]["latency_ms"] > 0
    assert not rows["openai/down"]["ok"] and "maintenance window" in rows["openai/down"]["detail"]
    assert rows["parametric"]["ok"] and rows["parametric"]["offline"]
    assert [r.model for r in openai_server.requests] == ["up", "down"], "a check is one request per model, no retries"


def test_a_run_whose_builder_models_are_all_down_stops_before_any_worker_starts(tmp_path, openai_server, capfd) -> None:
    config = _config(tmp_path, openai_server, ["openai/down"])
    code = main(["run", str(CUBE), "--builder", "llm", "--config", str(config), "--runs-dir", str(tmp_path / "runs")])
    err = capfd.readouterr().err
    assert code == 2 and "no model of role(s) builder answers" in err and "--no-check" in err
    assert "openai/down does not answer" in err
    assert not (tmp_path / "runs").exists()


def _colossus(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, as a user runs it (a run starts and stops a pool and a vision server)."""
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=PROJECT)


def test_an_offline_entry_lets_the_run_start_with_a_warning_and_no_check_skips_the_check(tmp_path, openai_server) -> None:
    config = _config(tmp_path, openai_server, ["openai/down", "parametric"])
    args = ["run", str(CUBE), "--config", str(config), "--runs-dir", str(tmp_path / "runs"), "--workers", "1",
            "--attempts", "1", "--iterations", "1", "--json"]
    done = _colossus(*args)
    assert done.returncode == 0, done.stderr
    assert "openai/down does not answer" in done.stderr and "no model of role" not in done.stderr
    asked = len(openai_server.requests)
    assert asked == 1
    assert _colossus(*args, "--no-check").returncode == 0
    assert len(openai_server.requests) == asked, "--no-check still pinged the models"
    assert len(list((tmp_path / "runs").glob("*/run.json"))) == 2


def test_a_run_that_calls_no_model_checks_none(tmp_path, openai_server) -> None:
    config = _config(tmp_path, openai_server, ["openai/down"])
    done = _colossus("run", str(CUBE), "--builder", "parametric", "--verifier", "metrics", "--config", str(config),
                     "--runs-dir", str(tmp_path / "runs"), "--workers", "1", "--attempts", "1", "--iterations", "1")
    assert done.returncode == 0, done.stderr
    assert not openai_server.requests


def test_a_model_named_with_dash_dash_model_that_cannot_see_stops_the_run_before_any_worker_starts(
        tmp_path, openai_server, capfd) -> None:
    config = _config(tmp_path, openai_server, ["openai/up"])
    config.write_text(config.read_text() + '[models.settings."openai/text-only"]\nvision = false\n'
                      f'api_base = "{openai_server.base_url}"\n')
    runs = tmp_path / "runs"
    code = main(["run", str(CUBE), "--verifier", "vlm", "--model", "verifier=openai/text-only", "--config", str(config),
                 "--runs-dir", str(runs)])
    err = capfd.readouterr().err
    assert code == 2 and "models.verifier: 'openai/text-only' cannot take images" in err, err
    code = main(["run", str(CUBE), "--model", "critic=openai/up", "--config", str(config), "--runs-dir", str(runs)])
    assert code == 2 and "unknown role 'critic'" in capfd.readouterr().err
    assert not runs.exists() and not openai_server.requests, "no pool, no run folder, no model call"
