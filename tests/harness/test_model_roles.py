"""Model roles: config, env overrides, and real litellm calls to a real local HTTP server."""

from __future__ import annotations

import pytest

from harness.model_config import ModelConfigError, ModelsConfig
from harness.model_roles import ModelCallError, ModelRoles
from tests.fakes.openai_server import FakeOpenAIServer, Reply, openai_server  # noqa: F401  (fixture)


def _roles(server: FakeOpenAIServer, schema: bool = False, retries: int = 0, **chains: list[str]) -> ModelRoles:
    models = {m for chain in chains.values() for m in chain}
    settings = {m: {"api_base": server.base_url, "api_key": "test-key", "response_schema": schema} for m in models}
    table = {**chains, "settings": settings, "router": {"num_retries": retries}}
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
    assert len(log.errors) == 1 and log.errors[0].startswith("openai/a: InternalServerError") and "HTTP 500" in log.errors[0]
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


# ---- resilience: litellm's retries, backoff, cooldowns and timeouts; every failure logged ------

async def test_a_429_with_retry_after_is_waited_out_then_the_same_model_answers(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", Reply(status=429, text="slow down", headers={"Retry-After": "1"}), "after the wait")
    text, log = await _roles(openai_server, retries=2, builder=["openai/a", "openai/b"]).complete(
        "builder", [{"role": "user", "content": "hi"}])
    assert (text, log.model, log.fallbacks_taken, log.retries) == ("after the wait", "openai/a", 0, 1)
    first, second = openai_server.requests
    assert (first.status, second.status) == (429, 200)
    assert second.received_s - first.received_s >= 1.0, "Retry-After: 1 was not honoured"
    assert len(log.errors) == 1 and "RateLimitError" in log.errors[0] and "slow down" in log.errors[0]


async def test_three_500s_are_retried_with_growing_backoff_then_succeed(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", 500, 500, 500, "fourth time lucky")
    text, log = await _roles(openai_server, retries=3, builder=["openai/a"]).complete(
        "builder", [{"role": "user", "content": "hi"}])
    assert (text, log.model, log.retries) == ("fourth time lucky", "openai/a", 3)
    times = [r.received_s for r in openai_server.requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 3 and gaps[0] >= 0.4 and gaps[2] > gaps[0], f"no exponential backoff: {gaps}"
    assert len(log.errors) == 3 and all("InternalServerError" in e and e.endswith("(retried)") for e in log.errors)


async def test_every_failed_model_leaves_its_own_error_in_the_log(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", Reply(status=500, text="a is on fire"))
    openai_server.script("b", Reply(status=401, text="b rejects the key"))
    with pytest.raises(ModelCallError, match="every model failed") as caught:
        await _roles(openai_server, builder=["openai/a", "openai/b"]).complete("builder", [{"role": "user", "content": "x"}])
    errors = caught.value.log.errors
    assert errors[0].startswith("openai/a: InternalServerError") and "a is on fire" in errors[0]
    assert errors[1].startswith("openai/b: AuthenticationError") and "b rejects the key" in errors[1]


async def test_a_model_slower_than_its_timeout_is_abandoned_for_the_next(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("slow", Reply(text="too late", delay_s=3))
    openai_server.script("quick", "in time")
    table = {"builder": ["openai/slow", "openai/quick"], "router": {"num_retries": 0}, "settings": {
        "openai/slow": {"api_base": openai_server.base_url, "api_key": "k", "timeout_s": 0.5},
        "openai/quick": {"api_base": openai_server.base_url, "api_key": "k"}}}
    text, log = await ModelRoles(ModelsConfig.from_table(table, env={})).complete("builder", [{"role": "user", "content": "x"}])
    assert (text, log.model, log.fallbacks_taken) == ("in time", "openai/quick", 1)
    assert "Timeout" in log.errors[0] and log.latency_ms < 2500


async def test_a_model_that_keeps_failing_cools_down_and_is_skipped_without_a_request(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("a", 500, 500, 500, 500, 500)
    openai_server.script("b", "b1", "b2", "b3", "b4", "b5")
    table = {"builder": ["openai/a", "openai/b"], "router": {"num_retries": 0, "allowed_fails": 1, "cooldown_time_s": 60},
             "settings": {m: {"api_base": openai_server.base_url, "api_key": "k"} for m in ("openai/a", "openai/b")}}
    roles = ModelRoles(ModelsConfig.from_table(table, env={}))
    for _ in range(5):
        text, log = await roles.complete("builder", [{"role": "user", "content": "x"}])
        assert log.model == "openai/b"
    assert len(openai_server.requests_for("a")) < 5, "a cooled-down model was still asked"
    assert "cooldown" in log.errors[0], log.errors


def test_router_settings_are_validated() -> None:
    with pytest.raises(ModelConfigError, match=r"\[models\.router\]"):
        ModelsConfig.from_table({"builder": ["openai/a"], "router": {"num_retries": -1}}, env={})


async def test_an_unpriced_model_stays_unknown_even_after_another_router_registered_it(openai_server: FakeOpenAIServer) -> None:
    openai_server.set_default(Reply(text="x", usage={"prompt_tokens": 10, "completion_tokens": 2}))
    for _ in range(2):  # the first Router registers the model in litellm's process-wide map at price 0
        _, log = await _roles(openai_server, builder=["openai/never-priced"]).complete("builder", [{"role": "user", "content": "x"}])
        assert log.cost_usd is None and log.tokens_in == 10


async def test_a_price_in_the_models_settings_gives_each_call_its_cost(openai_server: FakeOpenAIServer) -> None:
    openai_server.script("priced", Reply(text="x", usage={"prompt_tokens": 1000, "completion_tokens": 100}))
    table = {"builder": ["openai/priced"], "settings": {"openai/priced": {
        "api_base": openai_server.base_url, "api_key": "k", "input_cost_per_token": 1e-5, "output_cost_per_token": 1e-4}}}
    _, log = await ModelRoles(ModelsConfig.from_table(table, env={})).complete("builder", [{"role": "user", "content": "x"}])
    assert log.cost_usd == pytest.approx(0.02)
