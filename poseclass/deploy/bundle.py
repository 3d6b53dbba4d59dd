"""Writing a model folder's deploy files: the classifier's metadata and the fused model.

Both are derived from files the folder already holds (the exported classifier, its labels,
its Keras model and the MoveNet variant in the manifest), so ``poseclass deploy`` can bring a
folder written by an older poseclass up to date, and running it twice changes nothing. A folder
trained on MultiPose keypoints gets no fused model: it fuses single-pose MoveNet's graph, and an
app running MultiPose classifies each person's keypoints with the classifier itself.
"""

from __future__ import annotations

from pathlib import Path

from poseclass import __version__
from poseclass.classify.folder import ModelFolder
from poseclass.deploy.metadata import ModelInfo, TensorInfo, has_metadata, probabilities_info, with_metadata
from poseclass.files import LABELS_NAME, atomic_write
from poseclass.pose.detector import is_single_pose

FUSED_NAME = "pose_fused.tflite"


def classifier_metadata(model: bytes, folder: ModelFolder, labels_txt: bytes) -> bytes:
    """The exported classifier with standard TFLite metadata and ``labels.txt`` zipped in.

    Apps and tools (Android Studio's model viewer, the Task Library, Netron) read the labels
    and the tensor descriptions from it, instead of a loose labels.txt that can drift.
    """
    labels, variant = folder.labels, folder.variant
    chain = (f"MoveNet {variant} (single pose): feed MoveNet's output tensor as it is"
             if is_single_pose(variant)
             else "MoveNet MultiPose: feed one person's 51 keypoint values (the first 51 of their 56) as [1, 1, 17, 3]")
    info = ModelInfo(
        name="poseclass pose classifier",
        description=f"Classifies a person's pose as one of: {', '.join(labels)}. Chain it after {chain}.",
        version=__version__,
        author="poseclass",
    )
    keypoints = TensorInfo("movenet_keypoints", "MoveNet single-pose output as is: float32 [1, 1, 17, 3], the 17 "
                           "COCO keypoints (nose ... right_ankle) as (y, x, score); y and x in MoveNet's frame of a "
                           "square (letterboxed) input. The model centres and scales each pose itself.")
    probabilities = probabilities_info("probabilities", folder.unknown_below)
    return with_metadata(model, info, [keypoints], [probabilities], {LABELS_NAME: labels_txt})


def write_deploy(model_dir: str | Path, fused: bool = True) -> list[Path]:
    """Give ``model_dir``'s classifier its metadata (once) and, with ``fused``, build the fused model."""
    folder = ModelFolder.open(model_dir)
    folder.classifier()  # a missing or damaged classifier is one line here, not a parser's traceback below
    written = [folder.classifier_path]
    model = written[0].read_bytes()
    if not has_metadata(model):
        atomic_write(written[0], classifier_metadata(model, folder, folder.file(LABELS_NAME).read_bytes()))
    variant = folder.variant
    fused_path = folder.file(FUSED_NAME)
    built = dict(folder.manifest.get("deploy") or {}).get("fused")
    # Without --no-fused's rebuild, a fused model the manifest lists stays; any other is stale and goes,
    # so that the folder and its manifest always agree.
    kept = built if not fused and built and fused_path.exists() else None
    entry: dict[str, object] = {"classifier_metadata": True, "fused": kept}
    if fused and not is_single_pose(variant):
        from poseclass.quiet import note

        note(f"no {FUSED_NAME} for a model trained on MultiPose keypoints (the fused model is "
             "single-pose MoveNet's graph); apps run MultiPose, then the classifier on each person")
    elif fused:
        from poseclass.extras import TRAIN, require

        require(TRAIN, "tensorflow", "keras", what="the fused model (skip it with --no-fused)")
        from poseclass.deploy.fused import build_fused, graph_variant
        from poseclass.pose.models import VARIANTS

        atomic_write(fused_path, build_fused(folder.path))
        written.append(fused_path)
        side = VARIANTS[graph_variant(variant)].input_size
        entry["fused"] = {"file": FUSED_NAME, "input": [1, side, side, 3],
                          "movenet_graph": graph_variant(variant), "passes": 1}
    if entry["fused"] is None:
        fused_path.unlink(missing_ok=True)
    folder.manifest["deploy"] = entry
    folder.manifest["tflite_bytes"] = written[0].stat().st_size
    folder.write_manifest()
    return written
