"""The README's commands work: the quickstart script end to end, then each tagged command block."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands_ci_uses():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    assert "./scripts/quickstart.sh" in first_block and "./scripts/test.sh" in first_block
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


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
