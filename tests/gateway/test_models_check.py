"""`colossus models check`, alone and before a run, against a real local OpenAI-compatible server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main
from tests.fakes.openai_server import FakeOpenAIServer, Reply, openai_server  # noqa: F401  (fixture)

PROJECT = Path(__file__).resolve().parents[2]
CUBE = PROJECT / "tests" / "orchestrator" / "data" / "cube" / "task.toml"
CUBE_REPLY = "A cube.\n```python\nimport bpy\nbpy.ops.mesh.primitive_cube_add(size=1.0)\n```\n"


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
    openai_server.script("down", Reply(status=401, text="bad key"))
    config = _config(tmp_path, openai_server, ["openai/up", "openai/down", "parametric"])
    assert main(["models", "check", "--config", str(config), "--json"]) == 1
    rows = {r["model"]: r for r in json.loads(capfd.readouterr().out)}
    assert rows["openai/up"]["ok"] and rows["openai/up"]["latency_ms"] > 0
    assert not rows["openai/down"]["ok"] and "bad key" in rows["openai/down"]["detail"]
    assert rows["parametric"]["ok"] and rows["parametric"]["offline"]
    assert [r.model for r in openai_server.requests] == ["up", "down"], "a check is one request per model, no retries"


def _check_one(tmp_path: Path, fake: FakeOpenAIServer, capfd, reply: Reply | None, model: str = "m",
               **settings: object) -> dict:
    if reply is not None:
        fake.script(model, reply)
    path = _config(tmp_path, fake, [f"openai/{model}"])
    path.write_text(path.read_text() + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()))
    code = main(["models", "check", "--config", str(path), "--json"])
    row = json.loads(capfd.readouterr().out)[0]
    assert code == (0 if row["ok"] else 1)
    return row


@pytest.mark.parametrize("reply", [
    Reply(status=429, text="rate limited", headers={"Retry-After": "1"}),
    Reply(status=503, text="maintenance window"),
    Reply(status=529, text="Overloaded"),
    Reply(status=500, text="the model is overloaded, try again"),
], ids=["429", "503", "529", "overloaded"])
def test_a_busy_model_is_alive(tmp_path, openai_server, capfd, reply) -> None:
    row = _check_one(tmp_path, openai_server, capfd, reply)
    assert row["ok"] and row["state"] == "busy", row
    assert "busy" in row["reason"] or "overloaded" in row["reason"]


@pytest.mark.parametrize(("reply", "reason"), [
    (Reply(status=401, text="invalid api key"), "check its API key"),
    (Reply(status=403, text="no access"), "check its API key"),
    (Reply(status=404, text="The model `m` does not exist"), "unknown model"),
    (Reply(status=400, text="model 'm' does not exist"), "unknown model"),
], ids=["401", "403", "404", "unknown-model"])
def test_a_refusing_model_is_dead(tmp_path, openai_server, capfd, reply, reason) -> None:
    row = _check_one(tmp_path, openai_server, capfd, reply)
    assert not row["ok"] and row["state"] == "dead" and reason in row["reason"], row


def test_connection_refused_is_dead(tmp_path, capfd) -> None:
    path = tmp_path / "colossus.toml"
    path.write_text('[models]\nbuilder = ["openai/m"]\n[models.settings."openai/m"]\n'
                    f'api_base = "http://127.0.0.1:{_closed_port()}/v1"\napi_key = "k"\n')
    assert main(["models", "check", "--config", str(path), "--json"]) == 1
    row = json.loads(capfd.readouterr().out)[0]
    assert row["state"] == "dead" and "cannot connect" in row["reason"], row


def test_a_slow_model_is_dead_only_after_its_configured_timeout(tmp_path, openai_server, capfd) -> None:
    slow = _check_one(tmp_path, openai_server, capfd, Reply(text="ok", delay_s=1.5), model="slow", timeout_s=4)
    assert slow["state"] == "ok", "1.5 s is within the model's 4 s timeout"
    late = _check_one(tmp_path, openai_server, capfd, Reply(text="ok", delay_s=4), model="late", timeout_s=1)
    assert late["state"] == "dead" and "configured timeout of 1 s" in late["reason"], late


def test_models_check_prints_the_reason(tmp_path, openai_server, capfd) -> None:
    openai_server.script("busy", Reply(status=429, text="slow down"))
    openai_server.script("gone", Reply(status=403, text="forbidden"))
    config = _config(tmp_path, openai_server, ["openai/busy", "openai/gone"])
    assert main(["models", "check", "--config", str(config)]) == 1
    lines = capfd.readouterr().out.splitlines()
    assert any(line.startswith("busy") and "openai/busy" in line and "HTTP 429" in line for line in lines), lines
    assert any(line.startswith("dead") and "openai/gone" in line and "HTTP 403" in line for line in lines), lines


def test_a_run_whose_builder_models_are_all_down_stops_before_any_worker_starts(tmp_path, openai_server, capfd) -> None:
    config = _config(tmp_path, openai_server, ["openai/down"])
    code = main(["run", str(CUBE), "--builder", "llm", "--config", str(config), "--runs-dir", str(tmp_path / "runs")])
    err = capfd.readouterr().err
    assert code == 2 and "no model of role(s) builder answers" in err and "--no-check" in err
    assert "openai/down does not answer" in err
    assert not (tmp_path / "runs").exists()


def _closed_port() -> int:
    """A port nothing listens on: bound once, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _colossus(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, as a user runs it (a run starts and stops a pool and a vision server)."""
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=PROJECT)


def test_a_rate_limited_provider_is_run_against_and_the_run_completes(tmp_path, openai_server) -> None:
    """429 with Retry-After: 1 twice, then normal: the check warns, the run's retries wait it out."""
    limited = Reply(status=429, text="rate limited", headers={"Retry-After": "1"})
    openai_server.script("gen", limited, limited)
    openai_server.set_default(CUBE_REPLY)
    config = _config(tmp_path, openai_server, ["openai/gen"])
    done = _colossus("run", str(CUBE), "--builder", "llm", "--verifier", "metrics", "--config", str(config),
                     "--runs-dir", str(tmp_path / "runs"), "--workers", "1", "--attempts", "1", "--iterations", "1",
                     "--json")
    assert done.returncode == 0, done.stderr
    assert "openai/gen is busy (HTTP 429)" in done.stderr and "running anyway" in done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed" and result["best_score"] is not None and result["best_score"] > 0
    statuses = [r.status for r in openai_server.requests_for("gen")]
    assert statuses[:3] == [429, 429, 200], statuses


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
