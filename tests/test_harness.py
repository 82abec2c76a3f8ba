"""The test harness's own rules: how many workers ``-n auto`` starts, how the long tests
are dealt to them, how Pilot waits."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import textual._wait

from tests.conftest import (
    PILOT_IDLE_STEP,
    auto_workers,
    deal_long_tests,
    pytest_xdist_auto_num_workers,
)


@pytest.mark.parametrize(
    ("cpus", "workers"),
    [(1, 2), (2, 3), (4, 5), (8, 9), (64, 65)],
)
def test_auto_starts_one_worker_more_than_the_cpus(cpus, workers):
    assert auto_workers(cpus) == workers


def _config(numprocesses: str = "auto"):
    return SimpleNamespace(option=SimpleNamespace(numprocesses=numprocesses))


def test_auto_counts_the_cpus_this_process_may_use(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert pytest_xdist_auto_num_workers(_config()) == 4


def test_xdist_keeps_its_own_settings(monkeypatch):
    """PYTEST_XDIST_AUTO_NUM_WORKERS and ``-n logical``: xdist's own hook decides."""
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "3")
    assert pytest_xdist_auto_num_workers(_config()) is None
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS")
    assert pytest_xdist_auto_num_workers(_config("logical")) is None


def test_pilot_looks_for_an_idle_app_every_2_ms():
    """Set once the tests are collected (this module imports Textual's ``_wait``, as the
    browser tests do): if Textual renames it, this fails instead of the suite quietly
    taking 35 s longer."""
    assert textual._wait.SLEEP_GRANULARITY == PILOT_IDLE_STEP == 0.002


def test_each_worker_alternates_tests_that_wait_with_tests_that_compute():
    waits, computes = ["w0", "w1", "w2", "w3", "w4"], ["c0", "c1", "c2"]
    # Every other worker starts with the other kind; what is left of one kind comes last.
    assert deal_long_tests(waits, computes, 2) == [
        ["w0", "c0", "w2", "c2", "w4"],
        ["c1", "w1", "w3"],
    ]
    assert deal_long_tests(waits, computes, 1) == [["w0", "c0", "w1", "c1", "w2", "c2", "w3", "w4"]]
    assert deal_long_tests([], computes, 3) == [["c0"], ["c1"], ["c2"]]
