"""The fake provider itself: what tests and benches rely on it to do."""

from __future__ import annotations

import time

import httpx

from tests.fakes.openai_server import FakeOpenAIServer, Reply


def _ask(server: FakeOpenAIServer, model: str) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions", json={"model": model, "messages": []}, timeout=10)


def test_replies_are_served_in_order_with_usage_then_unscripted_is_a_500() -> None:
    with FakeOpenAIServer() as server:
        server.script("m", 429, Reply(text="ok", usage={"prompt_tokens": 5, "completion_tokens": 2}))
        assert _ask(server, "m").status_code == 429
        answer = _ask(server, "m").json()
        assert answer["choices"][0]["message"]["content"] == "ok"
        assert answer["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
        missing = _ask(server, "m")
        assert missing.status_code == 500 and "no scripted reply for model 'm'" in missing.text
        assert [r.status for r in server.requests_for("m")] == [429, 200, 500]


def test_fixed_latency_and_per_reply_delay_are_both_applied() -> None:
    with FakeOpenAIServer(latency_s=0.1, default="same") as server:
        server.script("m", Reply(text="slow", delay_s=0.2))
        started = time.perf_counter()
        assert _ask(server, "m").json()["choices"][0]["message"]["content"] == "slow"
        assert time.perf_counter() - started >= 0.3
        assert _ask(server, "other").json()["choices"][0]["message"]["content"] == "same"
