"""Scale-out on Dask: the same files as the local pool, whatever happens to a worker or the client."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import yoga_subset

from poseclass.data.preprocess import preprocess

OUTPUTS = ("all.csv", "skipped.csv", "labels.txt")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """150 real images and three bad files."""
    root = yoga_subset(tmp_path_factory.mktemp("dask") / "tree", per_class=30)
    (root / "dog" / "broken.jpg").write_bytes(b"")
    (root / "tree" / "notes.txt").write_text("not an image")
    (root / "chair" / "half.jpg").write_bytes(next((root / "chair").glob("*.jpg")).read_bytes()[:2000])
    return root


@pytest.fixture(scope="module")
def local_run(tree, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "out"
    preprocess(tree, out, workers=2, progress=False)
    return out


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cluster, Client(cluster) as connected:
        yield connected


def assert_same_files(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_local_cluster_writes_the_same_bytes_as_the_local_pool(tree, local_run, client, tmp_path):
    result = preprocess(tree, tmp_path / "out", progress=False, executor=client)
    assert result.n_computed == 153 and len(result.skipped) == 3
    assert_same_files(local_run, tmp_path / "out")


def test_any_concurrent_futures_executor_works(tree, local_run, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        preprocess(tree, tmp_path / "out", progress=False, executor=pool)
    assert_same_files(local_run, tmp_path / "out")


def test_a_worker_killed_mid_run_changes_nothing(tree, local_run, client, tmp_path):
    journal_dir = tmp_path / "out" / ".work"
    killed = threading.Event()

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(p.stat().st_size > 3000 for p in journal_dir.glob("*.jsonl")):
                victim = sorted(client.scheduler_info()["workers"])[0]
                os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    result = preprocess(tree, tmp_path / "out", progress=False, executor=client)
    killer.join()
    assert killed.is_set(), "the worker was killed while the run was going"
    assert result.n_computed == 153
    assert_same_files(local_run, tmp_path / "out")
    lines = [line for p in journal_dir.glob("*.jsonl") for line in p.read_text().splitlines()]
    assert len(lines) == 153, "no batch came back twice"


def test_a_killed_client_resumes_where_it_was(tree, local_run, tmp_path):
    out = tmp_path / "out"
    args = [sys.executable, "-m", "poseclass", "preprocess", str(tree), "--out", str(out), "--dask", "local:2",
            "--json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(p.stat().st_size > 3000 for p in out.glob(".work/*.jsonl")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the client, its scheduler and its workers, with no chance to tidy up
    proc.wait(timeout=60)
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    summary = json.loads(done.stdout)
    assert summary["reused"] > 0 and summary["reused"] + summary["computed"] == 153
    assert_same_files(local_run, out)


def test_a_worker_without_the_model_file_gets_it_from_the_client(tmp_path):
    from poseclass.data.workers import DetectorSpec, _model_file
    from poseclass.files import sha256
    from poseclass.pose.models import ensure_model

    model = ensure_model("lightning")
    elsewhere = DetectorSpec("lightning", str(tmp_path / "not-here.tflite"), sha256(model), 1, 2, 0.7)
    local = Path(_model_file(elsewhere, model.read_bytes()))
    assert local != model and sha256(local) == sha256(model)
    with pytest.raises(FileNotFoundError, match="not on this worker"):
        _model_file(elsewhere, None)
    shutil.copy(model, tmp_path / "here.tflite")
    assert _model_file(elsewhere._replace(model_path=str(tmp_path / "here.tflite")), None) == str(tmp_path / "here.tflite")


def test_dask_flag_errors_are_one_line(tree, tmp_path):
    bad = subprocess.run([sys.executable, "-m", "poseclass", "preprocess", str(tree), "--out", str(tmp_path),
                          "--dask", "local:zero"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "local:N" in bad.stderr
    blocker = ("import sys\nclass B:\n    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] == 'distributed': raise ImportError(name)\nsys.meta_path.insert(0, B())\n"
               "from poseclass.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    missing = subprocess.run([sys.executable, "-c", blocker, "preprocess", str(tree), "--out", str(tmp_path),
                              "--dask", "local:2"], capture_output=True, text=True)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "pip install 'poseclass[dask]'" in missing.stderr
