"""The notebook runs top to bottom (on a small subset); a failing cell fails the test."""

from __future__ import annotations

import nbformat
from conftest import POSE_TEST, ROOT, YOGA_TRAIN
from nbclient import NotebookClient

NOTEBOOK = ROOT / "notebooks" / "pose_classification.ipynb"


def test_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    assert any("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells)


def test_notebook_runs_on_a_subset(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    # papermill-style: an injected cell after the parameters overrides them.
    injected = nbformat.v4.new_code_cell(
        f'DATA_DIR = "{YOGA_TRAIN}"\nPER_CLASS = 60\nWORK_DIR = "{tmp_path}"\nTEST_IMAGE = "{POSE_TEST / "image3.jpeg"}"'
    )
    notebook.cells.insert(notebook.cells.index(params) + 1, injected)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    assert (tmp_path / "model" / "pose_classifier.tflite").exists()
    outputs = "".join(str(o.get("text", "")) for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "accuracy" in outputs
