"""The POSIX calls and their portable fallbacks, both exercised here on Linux (COLOSSUS_PORTABLE=1)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from harness.platform_calls import PORTABLE_ENV, MainThreadInterrupt, interrupt_main_after, kill_tree, portable


class Interrupted(BaseException):
    pass


@pytest.fixture(params=["posix", "portable"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "portable":
        monkeypatch.setenv(PORTABLE_ENV, "1")
    else:
        monkeypatch.delenv(PORTABLE_ENV, raising=False)
    assert portable() is (request.param == "portable")
    return request.param


def test_a_busy_loop_is_interrupted_at_its_timeout(mode: str) -> None:
    started, handler = time.monotonic(), signal.getsignal(signal.SIGALRM)
    with pytest.raises(Interrupted):
        with interrupt_main_after(0.3, Interrupted):
            while True:
                if mode == "portable":  # the fallback leaves the alarm signal alone
                    assert signal.getsignal(signal.SIGALRM) is handler
    assert 0.25 < time.monotonic() - started < 3


def test_nothing_is_raised_after_the_block_ends(mode: str) -> None:
    with interrupt_main_after(0.2, Interrupted):
        pass
    time.sleep(0.4)  # a late alarm or watchdog would raise here


def test_a_disarmed_interrupt_does_not_fire() -> None:
    interrupt = MainThreadInterrupt()
    assert interrupt.fire(Interrupted) is False
    with interrupt.armed():
        pass
    assert interrupt.fire(Interrupted) is False
    time.sleep(0.05)


def _tree() -> tuple[subprocess.Popen[bytes], psutil.Process]:
    code = "import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 20
    while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return parent, psutil.Process(parent.pid).children()[0]


def test_kill_tree_ends_a_process_and_its_children(mode: str) -> None:
    parent, child = _tree()
    kill_tree(parent.pid)
    assert parent.wait(10) != 0
    child.wait(10)
    assert not child.is_running()


def test_the_address_space_limit_turns_a_big_allocation_into_memory_error(tmp_path) -> None:
    code = textwrap.dedent("""
        from harness.platform_calls import limit_address_space
        assert limit_address_space(200 * 2**20) is not None
        try:
            block = b"x" * (400 * 2**20)
        except MemoryError:
            print("memory error")
        small = b"x" * (50 * 2**20)
        print("still working")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["memory", "error", "still", "working"], done.stderr


def test_the_portable_switch_sets_no_address_space_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORTABLE_ENV, "1")
    code = "from harness.platform_calls import limit_address_space\nprint(limit_address_space(2**20))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "None", done.stderr
