"""Model roles: config, env overrides, and real litellm calls to a real local HTTP server."""

from __future__ import annotations

import pytest

from harness.model_config import ModelConfigError, ModelsConfig
from harness.model_roles import ModelCallError, ModelRoles
from tests.fakes.openai_server import FakeOpenAIServer, Reply, openai_server  # noqa: F401  (fixture)


def _roles(server: FakeOpenAIServer, schema: bool = False, **chains: list[str]) -> ModelRoles:
    models = {m for chain in chains.values() for m in chain}
    settings = {m: {"api_base": server.base_url, "api_key": "test-key", "response_schema": schema} for m in models}
    table = {**chains, "settings": settings}
    return ModelRoles(ModelsConfig.from_table(table, env={}))


def test_env_override_replaces_a_roles_chain() -> None:
    config = ModelsConfig.from_table(
        {"verifier": ["openai/a"]}, env={"COLOSSUS_MODELS_VERIFIER": "openai/x, openai/y", "COLOSSUS_MODELS_BUILDER": "parametric"}
    )
    assert config.chain("verifier") == ["openai/x", "openai/y"]
    assert config.chain("builder") == ["parametric"]
    assert config.remote_chain("builder") == []


def test_only_a_role_with_a_callable_model_counts_as_having_one() -> None:
    config = ModelsConfig.from_table({"builder": ["parametric"], "verifier": ["metrics", "openai/vlm"]}, env={})
    assert config.has_remote("verifier")
    assert not config.has_remote("builder"), "offline backends alone are no model to call"
    assert not config.has_remote("summarizer"), "an unconfigured role is not an error here, just absent"


def test_unconfigured_role_is_a_clear_error() -> None:
    config = ModelsConfig.from_table({"builder": ["openai/a"]}, env={})
    with pytest.raises(ModelConfigError, match=r"'verifier' is not configured.*COLOSSUS_MODELS_VERIFIER"):
        config.chain("verifier")


def test_a_role_that_is_not_a_list_of_models_is_rejected() -> None:
    with pytest.raises(ModelConfigError, match=r"\[models\]\.verifier"):
        ModelsConfig.from_table({"verifier": [1, 2]}, env={})


def test_missing_key_env_var_is_named_in_the_error() -> None:
    config = ModelsConfig.from_table(
        {"verifier": ["openai/a"], "settings": {"openai/a": {"api_key_env": "COLOSSUS_TEST_NO_SUCH_KEY"}}}, env={}
    )
    with pytest.raises(ModelConfigError, match="COLOSSUS_TEST_NO_SUCH_KEY"):
        config.settings_for("openai/a").litellm_params("openai/a")


async def test_answer_text_and_tokens_are_returned(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", Reply(text="hello", usage={"prompt_tokens": 11, "completion_tokens": 3}))
    text, log = await _roles(openai_server, builder=["openai/a"]).complete("builder", [{"role": "user", "content": "hi"}])
    assert text == "hello"
    assert (log.role, log.model, log.fallbacks_taken, log.tokens_in, log.tokens_out) == ("builder", "openai/a", 0, 11, 3)
    assert log.latency_ms > 0
    assert log.cost_usd is None  # a model unknown to the cost map has no cost, not a zero cost


async def test_first_model_failing_falls_back_to_the_second_and_says_so(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", 500)
    openai_server.script("b", "from b")
    text, log = await _roles(openai_server, verifier=["openai/a", "openai/b"]).complete(
        "verifier", [{"role": "user", "content": "hi"}]
    )
    assert text == "from b"
    assert log.model == "openai/b" and log.fallbacks_taken == 1
    assert log.errors == ["openai/a: failed, fell back to the next model"]
    assert [(r.model, r.status) for r in openai_server.requests] == [("a", 500), ("b", 200)]


async def test_chain_is_walked_in_order_until_a_model_answers(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", 503)
    openai_server.script("b", 429)
    openai_server.script("c", "from c")
    text, log = await _roles(openai_server, verifier=["openai/a", "openai/b", "openai/c"]).complete(
        "verifier", [{"role": "user", "content": "hi"}]
    )
    assert (text, log.model, log.fallbacks_taken) == ("from c", "openai/c", 2)
    assert [r.model for r in openai_server.requests] == ["a", "b", "c"]


async def test_every_model_failing_raises_with_the_call_log(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", 500)
    openai_server.script("b", 500)
    with pytest.raises(ModelCallError, match="every model failed") as caught:
        await _roles(openai_server, verifier=["openai/a", "openai/b"]).complete("verifier", [{"role": "user", "content": "x"}])
    assert caught.value.log.model is None and caught.value.log.errors


async def test_same_model_in_two_roles_keeps_each_roles_fallbacks(openai_server: FakeOpenAIServer) -> None:
    roles = _roles(openai_server, builder=["openai/a", "openai/b"], verifier=["openai/a", "openai/c"])
    openai_server.script("a", 500, 500)
    openai_server.script("b", "b answers builder")
    openai_server.script("c", "c answers verifier")
    assert (await roles.complete("builder", [{"role": "user", "content": "x"}]))[0] == "b answers builder"
    assert (await roles.complete("verifier", [{"role": "user", "content": "x"}]))[0] == "c answers verifier"


_SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}


async def test_response_format_reaches_a_model_that_honours_it(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", '{"x": 1}')
    roles = _roles(openai_server, schema=True, verifier=["openai/a"])
    _, log = await roles.complete("verifier", [{"role": "user", "content": "x"}], response_format=_SCHEMA)
    assert openai_server.requests[0].body["response_format"]["type"] == "json_schema"
    assert log.structured_output


async def test_response_format_is_withheld_from_a_model_not_known_to_honour_it(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", '{"x": 1}')
    roles = _roles(openai_server, verifier=["openai/a"])
    _, log = await roles.complete("verifier", [{"role": "user", "content": "x"}], response_format=_SCHEMA)
    assert "response_format" not in openai_server.requests[0].body
    assert not log.structured_output
