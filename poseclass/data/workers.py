"""Running MoveNet over many files: in-process, on a local process pool, or on any executor.

Tasks are batches of files, so scheduling costs little per image. A task carries a
:class:`DetectorSpec` (the model file's path and sha256, and the crop settings), never a
detector: a LiteRT interpreter is neither picklable nor thread-safe, so each worker thread
builds its own on first use and keeps it.

On a Dask cluster (``dask.distributed.Client``) the model file is also scattered to every
worker once; a worker that does not see the file at the client's path writes those bytes to
its own temp folder. Images are read by path: the data must be visible to the workers at the
same path (a shared filesystem).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from poseclass.errors import ImageError, WorkerError

# Skipped files that are not images at all: reported, but no wrong answer in any accuracy.
NOT_IMAGE = "not_image"
BATCH_SIZE = 8
Item = tuple[str, str, int, int]  # path, path relative to the tree, size, mtime (ns)


class DetectorSpec(NamedTuple):
    """Everything a worker needs to build the same MoveNet the client would (no crop settings for MultiPose)."""

    variant: str
    model_path: str
    model_sha256: str
    num_threads: int
    passes: int | None
    refine_below: float | None


# --- worker side ----------------------------------------------------------------------------

_local = threading.local()


def _detector(spec: DetectorSpec, model: bytes | None) -> object:
    """This thread's one-person detector for ``spec`` (single-pose MoveNet or MultiPose's top person), built once."""
    from poseclass.pose.detector import open_detector

    detectors = _local.__dict__.setdefault("detectors", {})
    if spec not in detectors:
        detectors[spec] = open_detector(spec.variant, _model_file(spec, model), spec.num_threads, spec.passes,
                                        spec.refine_below)
    return detectors[spec]


def _model_file(spec: DetectorSpec, model: bytes | None) -> str:
    """The model at the client's path when this machine has that exact file, else ``model`` saved locally."""
    import tempfile

    from poseclass.files import atomic_write, sha256

    path = Path(spec.model_path)
    if path.exists() and sha256(path) == spec.model_sha256:
        return str(path)
    if model is None:
        raise FileNotFoundError(f"{path}: not on this worker (or a different file); give the workers the same "
                                "model file, or run through a dask Client, which ships it")
    local = Path(tempfile.gettempdir()) / f"poseclass-movenet-{spec.model_sha256[:16]}.tflite"
    if not local.exists() or sha256(local) != spec.model_sha256:
        atomic_write(local, model)
    return str(local)


def _ignore_interrupts() -> None:
    """Pool initializer: Ctrl-C is the parent's to handle (one message, not one traceback per worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def detect_batch(spec: DetectorSpec, batch: list[Item], model: bytes | None = None) -> list[dict[str, object]]:
    """Journal records of a batch of files."""
    detector = _detector(spec, model)
    return [_detect_record(detector, item) for item in batch]


def _detect_record(detector: object, item: Item) -> dict[str, object]:
    """Journal record of one file: keypoints normalised by image size, or why it was skipped."""
    from poseclass.images import IMAGE_SUFFIXES, load_rgb
    from poseclass.pose.movenet import MoveNet

    path, rel, size, mtime = item
    record: dict[str, object] = {"rel": rel, "size": size, "mtime": mtime}
    try:
        image = load_rgb(path)
    except ImageError as error:
        if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
            record.update(status=NOT_IMAGE, skip=f"{rel}: not an image (neither its name nor its content); ignored")
        else:
            record.update(status="unreadable", skip=str(error).replace(path, rel))
        return record
    try:
        pose = detector.detect(image)
    except Exception as error:  # noqa: BLE001 - one image whose inference fails must not end the batch
        record.update(status="error", skip=f"{rel}: MoveNet failed on it ({type(error).__name__}: {error})")
        return record
    if not MoveNet.has_person(pose):
        record.update(status="no_pose", skip=f"{rel}: no person found (keypoint confidence {pose.presence:.2f})")
        return record
    kp = np.column_stack([pose.xy[:, 0] / pose.width, pose.xy[:, 1] / pose.height, pose.scores])
    record.update(width=pose.width, height=pose.height, kp=[round(float(v), 6) for v in kp.ravel()])
    return record


# --- client side ----------------------------------------------------------------------------


def run(todo: list[Item], spec: DetectorSpec, journal: Path, label: str, progress: bool, workers: int,
        executor: object | None = None) -> Iterator[dict[str, object]]:
    """Records for ``todo``, each appended to ``journal`` as its batch comes back (so a kill loses little).

    ``executor``: None for a local pool of ``workers`` spawned processes (in-process for one
    worker), or any ``concurrent.futures.Executor``, or a ``dask.distributed.Client``. At
    most two batches per worker are in flight, so memory stays flat however long ``todo`` is.
    """
    import json

    from poseclass.quiet import progress_bar

    batches = [todo[i:i + BATCH_SIZE] for i in range(0, len(todo), BATCH_SIZE)]
    bar = progress_bar(total=len(todo), desc=label, unit="img", disable=not progress)
    with open(journal, "a", encoding="utf-8") as log:
        try:
            for records in _batches_done(batches, spec, workers, executor):
                for record in records:
                    log.write(json.dumps(record) + "\n")
                log.flush()
                bar.update(len(records))
                yield from records
        finally:
            bar.close()


def _batches_done(batches: list[list[Item]], spec: DetectorSpec, workers: int,
                  executor: object | None) -> Iterator[list[dict[str, object]]]:
    """The records of each batch, in the order they finish."""
    from concurrent.futures import ProcessPoolExecutor

    if executor is None and (workers == 1 or len(batches) == 1):
        for batch in batches:
            yield detect_batch(spec, batch)
        return
    if executor is not None and _is_dask(executor):
        yield from _in_flight(executor.get_executor(), batches, spec, _dask_slots(executor),
                              executor.scatter(Path(spec.model_path).read_bytes(), broadcast=True))
        return
    if executor is not None:
        yield from _in_flight(executor, batches, spec, workers)
        return
    pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), initializer=_ignore_interrupts)
    try:
        yield from _in_flight(pool, batches, spec, workers)
    finally:  # on an error or Ctrl-C: drop queued batches; running ones end within a batch
        pool.shutdown(wait=False, cancel_futures=True)


def _in_flight(pool: object, batches: list[list[Item]], spec: DetectorSpec, slots: int,
               model: object = None) -> Iterator[list[dict[str, object]]]:
    """Submit batches to ``pool`` keeping ``2 × slots`` in flight; yield each one's records as it finishes."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending: set = set()
    for batch in batches:
        pending.add(pool.submit(detect_batch, spec, batch, model))
        if len(pending) >= 2 * slots:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (_result(future) for future in done)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from (_result(future) for future in done)


def _is_dask(executor: object) -> bool:
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "get_executor")


def _dask_slots(client: object) -> int:
    """How many tasks the cluster runs at once (its worker threads)."""
    return max(1, sum(client.nthreads().values()))


def _result(future: object) -> list[dict[str, object]]:
    """A batch's records; a worker that could not build its detector, or a lost pool, stops the run with one line."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool as error:
        raise WorkerError(f"a preprocess worker died ({error}); finished images are kept, "
                          "run again to resume") from None
    except Exception as error:  # noqa: BLE001 - per-image errors are caught in the worker: this is setup
        raise WorkerError(f"MoveNet could not start in a worker: {type(error).__name__}: {error}") from None
