"""Dask clusters for ``--dask``: the address of a running scheduler, or ``local[:N]`` worker processes.

Needs the ``dask`` extra (``pip install "poseclass[dask]"``). The client that comes out is
passed to :func:`poseclass.data.preprocess.preprocess` as ``executor``; see
:mod:`poseclass.data.workers` for what runs where.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from poseclass.errors import ClusterError
from poseclass.extras import DASK, require

CONNECT_TIMEOUT_S = 15


def local_workers(spec: str) -> int | None:
    """N for ``local`` / ``local:N`` (all cores for plain ``local``); None for a scheduler address."""
    if spec != "local" and not spec.startswith("local:"):
        return None
    text = spec.partition(":")[2] or str(os.cpu_count() or 1)
    if not text.isdigit() or int(text) < 1:
        raise ClusterError(f"--dask {spec!r}: give local:N with N at least 1, or a scheduler address tcp://HOST:PORT")
    return int(text)


@contextlib.contextmanager
def dask_client(spec: str) -> Iterator[object]:
    """A ``distributed.Client`` for ``spec``, closed (with its local cluster) on the way out."""
    require(DASK, "distributed", what="--dask")
    import logging

    from distributed import Client, LocalCluster

    from poseclass.quiet import verbose

    level = logging.INFO if verbose() else logging.ERROR
    logging.getLogger("distributed").setLevel(level)
    workers = local_workers(spec)
    if workers is not None:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=level) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(spec, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"--dask {spec}: no scheduler answered ({error}); start one with `dask scheduler` "
                           "and workers with `dask worker ADDRESS`, or use --dask local:N") from None
    with client:
        yield client
