"""The shared search's tickets: the points a run evaluates follow from its evaluations, never from timing."""

from __future__ import annotations

import asyncio
import random

from orchestrator.builders.interface import Proposal
from orchestrator.builders.siblings import Siblings
from orchestrator.coordinator import make_strategy
from orchestrator.memory import IterationStep
from orchestrator.state import AttemptState


def _form(steps: list[IterationStep]) -> list[float]:
    """A search stand-in: after every fourth evaluation it needs three independent points, else one."""
    base = round(sum(s.score * (k + 1) for k, s in enumerate(steps)), 6)
    return [base + k for k in range(3 if len(steps) % 4 == 0 else 1)]


async def _run(timing_seed: int, attempts: int = 2, iterations: int = 6, threshold: float = 2.0,
               states: dict[int, AttemptState] | None = None) -> tuple[dict[int, float], int, dict[int, AttemptState]]:
    """Attempts proposing through the ledger, each proposal and render taking a random while; returns
    ticket → point, the most renders at once, and the states."""
    states = states or {i: AttemptState(index=i, strategy=make_strategy(i, 0)) for i in range(attempts)}
    siblings = Siblings(states, threshold)
    rng = random.Random(timing_seed)
    points: dict[int, float] = {}
    rendering, most = 0, 0

    async def attempt(i: int) -> None:
        nonlocal rendering, most
        state = states[i]
        while len(state.memory.steps) < iterations:
            await asyncio.sleep(rng.random() * 0.004)
            view = await siblings.take(i)
            if view is None:
                state.status = "converged"
                return
            if view.queued is None:
                await asyncio.sleep(rng.random() * 0.004)  # forming takes a while (probes)
                batch = [Proposal(builder="t", code="", params={"x": [x]}) for x in _form(view.steps)]
                await siblings.offer(i, batch[1:])
                proposal = batch[0]
            else:
                proposal = view.queued
            x = proposal.params["x"][0]
            points[siblings.ticket(i)] = x
            rendering += 1
            most = max(most, rendering)
            await asyncio.sleep(rng.random() * 0.02)  # the render
            rendering -= 1
            state.memory.add(IterationStep(index=len(state.memory.steps), ticket=siblings.ticket(i), params={"x": [x]},
                                           score=(x * 7919 % 1000) / 1000 + (siblings.ticket(i) >= 7)))
            await siblings.release(i)

    await asyncio.gather(*(attempt(i) for i in range(attempts)))
    return points, most, states


async def test_the_points_every_ticket_evaluates_are_the_same_whatever_the_timing():
    runs = [await _run(seed) for seed in range(8)]
    first = runs[0][0]
    assert len(first) == 12 and sorted(first) == list(range(12))
    assert all(points == first for points, _, _ in runs[1:]), [r[0] for r in runs]
    assert max(most for _, most, _ in runs) == 2  # a batch's points are rendered at once


async def test_a_search_whose_evaluations_reached_the_threshold_forms_nothing_more():
    for seed in range(4):
        points, _, states = await _run(seed, threshold=1.0)  # ticket 7 and later score ≥ 1
        assert max(points) >= 7 and max(points) <= 9, points  # at most what a batch formed before 7 holds
        assert {s.status for s in states.values()} == {"converged"}
    assert len({tuple(sorted((await _run(seed, threshold=1.0))[0].items())) for seed in range(4)}) == 1


async def test_a_resumed_run_goes_on_from_the_tickets_it_recorded():
    _, _, states = await _run(0, iterations=3)
    lost = states[1].memory.steps.pop()  # the crash took its last iteration
    siblings = Siblings(states, 2.0)
    view = await siblings.take(0)
    assert view is not None and view.ticket == 6 and view.queued is None
    assert [s.ticket for s in view.steps] == sorted(set(range(6)) - {lost.ticket})


async def test_an_attempt_that_fails_mid_iteration_holds_nobody_up():
    states = {i: AttemptState(index=i, strategy=make_strategy(i, 0)) for i in range(2)}
    siblings = Siblings(states, 2.0)

    async def failing() -> None:  # forms a batch of three, takes the first point, then its worker dies
        view = await siblings.take(1)
        assert view is not None and view.queued is None
        await siblings.offer(1, [Proposal(builder="t", code="", params={"x": [float(k)]}) for k in (1, 2)])
        await asyncio.sleep(0.01)
        await siblings.release(1)  # the loop's `finally`: no step recorded

    async def going_on() -> list[int]:
        taken = []
        for k in range(4):
            await asyncio.sleep(0.002)
            view = await siblings.take(0)
            assert view is not None
            taken.append(view.ticket)
            states[0].memory.add(IterationStep(index=k, ticket=view.ticket, score=0.1))
            await siblings.release(0)
        return taken

    _, taken = await asyncio.wait_for(asyncio.gather(failing(), going_on()), timeout=5)
    assert taken == [1, 2, 3, 4]  # the batch's two points, then proposals formed without the lost one
