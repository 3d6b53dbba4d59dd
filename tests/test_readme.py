"""The README's commands work: the quickstart script end to end, then each tagged command block and Python snippet."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import POSE_TEST, ROOT, YOGA_TRAIN, yoga_subset
from PIL import Image

README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands_ci_uses():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    assert "./scripts/quickstart.sh" in first_block and "./scripts/test.sh" in first_block
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    opening = README[: README.index("## Install")]
    assert "source .venv/bin/activate" in opening, "a clean shell needs it before `poseclass` is found"
    assert "source .venv/bin/activate" in (ROOT / "scripts" / "quickstart.sh").read_text().splitlines()[-1]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    env = {**os.environ, "POSECLASS_RUNS": str(runs)}
    done = subprocess.run(["bash", "scripts/quickstart.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return runs, done.stdout


def test_quickstart_trains_evaluates_and_predicts(quickstart):
    runs, stdout = quickstart
    assert (runs / "model" / "pose_classifier.tflite").exists()
    assert (runs / "model" / "confusion_matrix.png").exists()
    assert re.search(r"image3\.jpeg: tree \d", stdout), stdout[-2000:]
    assert "accuracy" in stdout


def test_tagged_readme_blocks_run(quickstart):
    runs, _ = quickstart
    blocks = re.findall(r"<!-- readme-test -->\n```bash\n(.*?)```", README, re.S)
    assert blocks
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    for block in blocks:
        for line in block.strip().splitlines():
            command = line.split("  #")[0].strip().replace("runs/", f"{runs}/")
            done = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"


def _sandbox(folder, model) -> None:
    """The files the README's Python snippets name, made real: model/, photo.jpg, yoga_poses/, photos/, squats.mp4."""
    import av

    shutil.copytree(model, folder / "model")
    shutil.copy(POSE_TEST / "image3.jpeg", folder / "photo.jpg")
    yoga_subset(folder / "yoga_poses" / "train", per_class=8, subjects=("girl2", "guy", "guy2"))
    yoga_subset(folder / "photos", per_class=2)
    frames = [*sorted((YOGA_TRAIN / "tree").glob("girl1_*.jpg"))[:15], *sorted((YOGA_TRAIN / "chair").glob("girl1_*.jpg"))[:15]]
    with av.open(str(folder / "squats.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 300, 300, "yuv420p"
        for i, path in enumerate(frames * 2):
            frame = av.VideoFrame.from_image(Image.open(path).convert("RGB"))
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def test_every_python_snippet_runs(quickstart, tmp_path):
    """Each tagged Python block, as written, in a folder holding the files it names (a local Dask cluster
    stands in for the scheduler's address)."""
    from distributed import LocalCluster

    runs, _ = quickstart
    snippets = re.findall(r"<!-- readme-test -->\n```python\n(.*?)```", README, re.S)
    assert len(snippets) >= 4
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, silence_logs=50) as cluster:
        for i, code in enumerate(snippets):
            folder = tmp_path / f"snippet{i}"
            folder.mkdir()
            _sandbox(folder, runs / "model")
            if "export(" in code:  # the snippet makes its own model folder
                shutil.rmtree(folder / "model")
            code = code.replace("tcp://SCHEDULER:8786", cluster.scheduler_address)
            done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, f"{code}\n{done.stderr[-3000:]}"
