"""The hostile suite (test_execution_hostile.py) again, every case, through Ray actors.

The cases and their `judge`/`isolation` fixtures are imported as they are; only the `pool`
they run on changes (POOL_EXECUTOR, read by tests/conftest.py): a Ray executor on the
two-node test cluster, whose actors' sandbox workers the health check watches (no stray
process, nothing new in the host's temp dirs, a normal program still passes). The same
file runs through Ray on its own with `pytest --executor ray`.
"""

from __future__ import annotations

from test_execution_hostile import *  # noqa: F403 (the cases and their fixtures)

POOL_EXECUTOR = "ray"


def test_the_health_check_watches_the_actors_sandbox_workers(pool, sandbox_parents, processes):
    actors = {node.pid for node in pool.nodes()}
    assert actors and actors <= sandbox_parents
    # else the process checks would find no sandbox worker and check nothing
    launchers = [
        p for p in processes().values() if p.ppid in actors and b"_sandbox.py" in p.cmdline
    ]
    assert len(launchers) >= len(actors)
