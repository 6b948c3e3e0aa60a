"""Shared fixtures of the coordinator tests."""

import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewayConfig
from gateway.services import GatewayServices
from tests.fakes.openai_server import FakeOpenAIServer

# a 1×1 grey PNG: the smallest valid reference image (OpenCV decodes it)
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVQIHWNoaGgAAAMEAYHZ9rm7AAAAAElFTkSuQmCC")


@pytest.fixture
def png() -> bytes:
    return PNG


@asynccontextmanager
async def running_services(root: Path, workers: int, config_file: Path | None = None,
                           **pool: Any) -> AsyncIterator[GatewayServices]:
    """A gateway's services (pool and vision) under `root`, with at least one worker ready;
    `config_file` (a colossus.toml) reaches the vision server, e.g. its [models] verifier chain; `pool`: more [pool] keys."""
    config = GatewayConfig.from_raw({"pool": {"workers": workers, "workdir": str(root / "pool"), "health_interval_s": 3600,
                                              "warm_spare": False, "exec_grace_s": 1, **pool}}, config_file)
    config.runs_dir = root / "runs"
    services = GatewayServices(config)
    await services.start()
    try:
        assert await services.pool.wait_ready(90) >= 1
        yield services
    finally:
        await services.stop()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    """A local OpenAI-compatible server per test module, nothing scripted (a module may define its own)."""
    with FakeOpenAIServer() as server:
        yield server


@asynccontextmanager
async def verifier_services(root: Path, fake: FakeOpenAIServer, model: str, **settings: Any) -> AsyncIterator[GatewayServices]:
    """running_services with one worker, whose vision server's verifier chain is `model` served by the local
    OpenAI-compatible server `fake`, without retries; `settings`: more keys of that model's [models.settings]."""
    toml = root / "colossus.toml"
    toml.write_text(f'[models]\nverifier = ["{model}"]\n[models.router]\nnum_retries = 0\n'
                    f'[models.settings."{model}"]\napi_base = "{fake.base_url}"\napi_key = "k"\n'
                    + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()))
    async with running_services(root, workers=1, config_file=toml) as services:
        yield services
