"""The test harness's own rules: how many workers ``-n auto`` starts."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from tests.conftest import auto_workers, pytest_xdist_auto_num_workers


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
