"""A run's own models are checked against colossus.toml and litellm before anything starts."""

from __future__ import annotations

import pytest

from harness.model_choice import ModelChoiceError, check_models, parse_model_args, with_models
from harness.model_config import ModelsConfig

CONFIG = ModelsConfig.from_table({
    "builder": ["openai/gen-a", "parametric"], "verifier": ["openai/vlm-a"],
    "settings": {"openai/gen-a": {"api_base": "http://127.0.0.1:9/v1"},
                 "openai/vlm-a": {"api_base": "http://127.0.0.1:9/v1", "vision": True},
                 "openai/text-only": {"api_base": "http://127.0.0.1:9/v1", "vision": False},
                 "openai/keyed": {"api_key_env": "COLOSSUS_TEST_UNSET_KEY"}},
}, env={})


def test_configured_models_and_fitting_offline_backends_pass_in_the_order_given():
    chosen = check_models(CONFIG, {"builder": ["openai/text-only", "parametric"], "verifier": "openai/vlm-a",
                                   "planner": ["openai/gen-a"]})
    assert chosen == {"builder": ["openai/text-only", "parametric"], "verifier": ["openai/vlm-a"], "planner": ["openai/gen-a"]}
    run = with_models(CONFIG, chosen)
    assert run.chain("builder") == ["openai/text-only", "parametric"] and run.chain("planner") == ["openai/gen-a"]
    assert CONFIG.chain("builder") == ["openai/gen-a", "parametric"], "the configured chains are not changed"


@pytest.mark.parametrize(("chosen", "message"), [
    ({"critic": ["openai/gen-a"]}, "unknown role 'critic'; a run may name builder, verifier, summarizer, planner"),
    ({"builder": []}, "models.builder: expected a non-empty list"),
    ({"builder": ["nosuchprovider-xyz/model"]}, "litellm knows no provider for it"),
    ({"builder": ["openai/keyed"]}, "$COLOSSUS_TEST_UNSET_KEY"),
    ({"verifier": ["openai/text-only"]}, "'openai/text-only' cannot take images"),
    ({"verifier": ["parametric"]}, "is the offline builder; it cannot play verifier"),
    ({"builder": ["metrics"]}, "is the offline verifier; it cannot play builder"),
])
def test_a_bad_choice_is_refused_naming_the_role_and_the_model(chosen, message, monkeypatch):
    monkeypatch.delenv("COLOSSUS_TEST_UNSET_KEY", raising=False)
    with pytest.raises(ModelChoiceError) as e:
        check_models(CONFIG, chosen)
    assert message in str(e.value)


def test_an_unconfigured_model_of_a_known_provider_needs_its_key_in_the_environment(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ModelChoiceError, match="ANTHROPIC_API_KEY"):
        check_models(CONFIG, {"builder": ["anthropic/claude-sonnet-4-5"]})
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert check_models(CONFIG, {"builder": ["anthropic/claude-sonnet-4-5"]})


def test_litellm_knows_which_models_see_when_the_settings_do_not_say(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert check_models(CONFIG, {"verifier": ["openai/gpt-4o"]}) == {"verifier": ["openai/gpt-4o"]}
    with pytest.raises(ModelChoiceError, match="cannot take images"):
        check_models(CONFIG, {"verifier": ["openai/gpt-3.5-turbo"]})


def test_model_arguments_build_chains_in_the_order_given():
    assert parse_model_args(["builder=openai/a", "verifier=openai/v", "builder=parametric"]) == {
        "builder": ["openai/a", "parametric"], "verifier": ["openai/v"]}
    with pytest.raises(ModelChoiceError, match="expected ROLE=MODEL"):
        parse_model_args(["openai/a"])
