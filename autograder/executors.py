"""Executors: where the submissions of a job are graded -- a local thread pool or a Dask cluster.

:func:`run_jobs` yields ``fn(job)`` as each job finishes. Threads are enough
locally (the work happens in sandboxed child processes); Dask's
``distributed`` spreads jobs over processes or machines (``[dask]`` extra),
each job being plain, picklable data.
"""

from __future__ import annotations

import concurrent.futures as cf
import os

from course.errors import CourseError

__all__ = ["run_jobs"]


def _local_map(fn, jobs, workers):
    # threads are enough: the work happens in the sandboxed child processes
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fn, job) for job in jobs]
        try:
            for future in cf.as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _dask_map(fn, jobs, workers, address=None):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise CourseError("the dask executor needs dask.distributed: pip install 'xai-course[dask]'") from None
    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(address or cluster)
    try:
        futures = client.map(fn, jobs, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_jobs(fn, jobs, *, executor: str = "local", workers: int | None = None, address: str | None = None):
    """Yield ``fn(job)`` for each job as they finish, on the chosen executor."""
    workers = workers or os.cpu_count() or 1
    if executor == "local":
        return _local_map(fn, jobs, workers)
    if executor == "dask":
        return _dask_map(fn, jobs, workers, address)
    raise CourseError(f"unknown executor {executor!r}; use local or dask")
