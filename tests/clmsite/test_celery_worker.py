"""A real Celery worker (subprocess) against Redis takes a task through the broker."""
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.services


@pytest.fixture
def eager_celery():
    """Overrides the suite's eager fixture: this test goes through the real broker."""
    yield


@pytest.fixture
def worker(redis_url):
    env = dict(os.environ, REDIS_URL=redis_url, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clmsite", "worker", "-Q", "default", "--pool=solo",
         "--concurrency=1", "--without-gossip", "--without-mingle", "-n", f"test-ping-{os.getpid()}@%h", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_worker_answers_a_task_through_the_broker(worker):
    # given a worker on the default queue, when ping is sent through Redis, then its result comes back
    from clmsite.celery import ping

    assert not ping.app.conf.task_always_eager
    result = ping.apply_async(args=["hello"], queue="default")
    deadline = time.monotonic() + 90
    while not result.ready() and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
        time.sleep(0.2)
    assert result.get(timeout=5) == "hello"
