"""The run's attempts as one shared search sees them: its evaluations in a fixed order.

Attempts of a run that share a search (the parametric builder, and hybrid's refining steps) take
numbered tickets, one per proposal. A proposal is either formed from every evaluation made so far
(waited for, so none is in flight) or taken from the batch the last formed one left: the points the
search needs whatever the others show, such as the columns of a Jacobian. Each attempt renders one
point of a batch, so two workers render two columns at once; a step that depends on the last
evaluation waits for it. The points a run evaluates, in order, and their results are then a pure
function of the task and the seed: which attempt renders which depends on timing, nothing else
does. (Before, a proposal saw whatever its siblings had finished by then, and the same example
scored 0.84 in one run and 0.93 in the next.)

A search whose evaluations reached the threshold forms nothing more: the attempt asking stops
converged (SearchConverged); a batch already formed is rendered to its end.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from orchestrator.builders.proposal import Proposal
from orchestrator.memory import IterationStep
from orchestrator.state import AttemptState

__all__ = ["Siblings", "SharedView"]


@dataclass(frozen=True)
class SharedView:
    """Proposal `ticket`: taken from the last batch (`queued`), or to be formed from `steps`, in ticket order."""

    ticket: int
    steps: list[IterationStep]
    queued: Proposal | None = None


class Siblings:
    """The coordinator owns one per run; the loop releases an attempt's ticket when its iteration ends."""

    def __init__(self, states: dict[int, AttemptState], threshold: float) -> None:
        self.states, self.threshold = states, threshold
        self._held: dict[int, int] = {}  # attempt → the ticket of the iteration it is in
        self._batch: list[Proposal] = []
        self._forming: int | None = None  # the attempt forming the next batch
        self._changed = asyncio.Condition()
        recorded = [s.ticket for st in states.values() for s in st.memory.steps if s.ticket is not None]
        # per ticket: its evaluation is over (recorded, or abandoned: a resumed run's tickets lost in a crash)
        self._done: list[bool] = [True] * (max(recorded, default=-1) + 1)

    async def take(self, attempt: int) -> SharedView | None:
        """The attempt's next ticket: the batch's next point, else (every evaluation over) one to form from all of
        them; None when those reached the threshold."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._batch or self._forming is None and all(self._done))
            ticket = len(self._done)
            self._done.append(False)
            self._held[attempt] = ticket
            if self._batch:
                return SharedView(ticket, [], self._batch.pop(0))
            steps = sorted((s for st in self.states.values() for s in st.memory.steps), key=_order)
            if any(s.score >= self.threshold for s in steps if s.ticket is not None):
                self._end(attempt)
                return None
            self._forming = attempt
            return SharedView(ticket, steps)

    async def offer(self, attempt: int, rest: list[Proposal]) -> None:
        """The rest of the batch the attempt formed, for the next tickets."""
        async with self._changed:
            if self._forming == attempt:
                self._batch, self._forming = list(rest), None
                self._changed.notify_all()

    def ticket(self, attempt: int) -> int | None:
        """The ticket of the attempt's iteration; None when its proposal took none (a model's)."""
        return self._held.get(attempt)

    async def release(self, attempt: int) -> None:
        """The attempt's iteration is over (its step recorded, or abandoned): its ticket holds nobody up."""
        async with self._changed:
            self._end(attempt)

    def _end(self, attempt: int) -> None:
        if (ticket := self._held.pop(attempt, None)) is not None:
            self._done[ticket] = True
        if self._forming == attempt:
            self._forming = None
        self._changed.notify_all()


def _order(step: IterationStep) -> tuple[int, int]:
    """Steps without a ticket (a model's, an old run's) first, then by ticket."""
    return (-1, step.index) if step.ticket is None else (step.ticket, 0)
