"""MoveNet MultiPose: which input size, and what its keypoints cost the classifier.

    .venv/bin/python benchmarks/multipose.py sizes      # input size: people found by size, ms/image
    .venv/bin/python benchmarks/multipose.py accuracy   # held-out girl1: single-pose chain vs MultiPose
    .venv/bin/python benchmarks/multipose.py latency    # 1 and 2 threads; vs single-pose once per person
    .venv/bin/python benchmarks/multipose.py topdown    # --multi on held-out photos: MultiPose alone vs top-down
    .venv/bin/python benchmarks/multipose.py video      # a 3-person clip of held-out frames: accuracy, ms/frame

``sizes`` converts the TF.js graph at 256, 320 and 384 px (needs the train extra) and runs each on
composites built from the yoga images: 3 people of different classes side by side on a 1280x720
canvas, all at one height (144 to 426 px, 20% to 60% of the frame). A person counts as found when a
detection's box lies mostly inside their picture (see ``found``).

``accuracy`` trains the classifier as tests/conftest.py does (thunder-int8 keypoints, every subject
but girl1), then classifies all 186 girl1 images with the single-pose chain and with MultiPose's
most confident person, and prints accuracy and ms/image for each; then the same with the same
classifier recipe trained on MultiPose keypoints of the same training images
(``load_splits(..., variant="multipose")``, as ``train --pose-model multipose``), validated on the same
subjects, and that folder's own ``PosePipeline.predict``.

``topdown`` (``--model DIR``, or a classifier trained as above with girl1 held out) classifies every girl1
photo with the single-person chain, with MultiPose's keypoints (``--multi`` before top-down) and top-down
(MultiPose finds, single-pose MoveNet reads: ``predict --multi`` now), counting the top person; then
``--pairs`` pairs of two different girl1 photos pasted side by side (600x300), each person to be found
(a box mostly in their half) and named right.

``video`` builds clips from girl1's consecutive frames: 2 or 3 people side by side on 960x360, each
holding a class for 10 frames then the next (held-out frames, so per-person accuracy is
generalisation), and runs ``PeopleVideoClassifier`` with MultiPose every N frames (``--every``), against
MultiPose on every frame classifying its keypoints. Per-person per-frame accuracy counts every person in
every frame (a missing or misplaced person is wrong); cost is ms/frame against one single-pose pass per
person per frame (thunder-int8 ``detect_in`` on each person's crop).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from run import SUBJECT
from run import TRAIN as YOGA_TRAIN  # benchmarks/run.py, beside this file: the data paths

CLASSES = ("chair", "cobra", "dog", "tree", "warrior")
HEIGHTS = (144, 216, 288, 360, 426)
THRESHOLDS = (0.1, 0.15, 0.2, 0.25)  # 0.25: TF.js pose-detection's default minimum person score


def composite(rng: np.random.Generator, height: int, people: int = 3, canvas=(1280, 720)):
    """``people`` yoga photos of different classes pasted side by side; returns the image and their regions."""
    image = Image.new("RGB", canvas, (128, 128, 128))
    classes = rng.choice(CLASSES, people, replace=False)
    slot = canvas[0] // people
    regions = []
    for i, name in enumerate(classes):
        files = sorted((YOGA_TRAIN / name).glob("*.jpg"))
        person = Image.open(files[rng.integers(len(files))]).convert("RGB")
        width = round(person.width * height / person.height)
        person = person.resize((width, height), Image.Resampling.BICUBIC)
        x = i * slot + int(rng.integers(0, max(1, slot - width)))
        y = int(rng.integers(0, canvas[1] - height + 1))
        image.paste(person, (x, y))
        regions.append((str(name), (x, y, x + width, y + height)))
    return image, regions


def inside(box, region) -> float:
    """The fraction of ``box`` that lies inside ``region``."""
    ix = max(0.0, min(box[2], region[2]) - max(box[0], region[0]))
    iy = max(0.0, min(box[3], region[3]) - max(box[1], region[1]))
    area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    return ix * iy / area


def found(boxes, regions, containment: float = 0.7) -> list[int | None]:
    """For each region, the index of the detected box matched to it (mostly inside it), or None."""
    taken, out = set(), []
    for region in regions:
        free = [(inside(b, region), j) for j, b in enumerate(boxes) if j not in taken]
        best = max(free) if free else (0.0, None)
        if best[0] >= containment:
            taken.add(best[1])
            out.append(best[1])
        else:
            out.append(None)
    return out


def sizes(args: argparse.Namespace) -> None:
    from poseclass.pose import litert
    from poseclass.pose.build.convert import tfjs_to_tflite
    from poseclass.pose.models import VARIANTS, fetch_tfjs
    rng = np.random.default_rng(0)
    scenes = {h: [composite(rng, h) for _ in range(args.scenes)] for h in HEIGHTS}
    print(f"{args.scenes} composites x 3 people per person height, canvas 1280x720, {args.threads} threads; "
          "share of people found, by person height; false+: detections matching nobody")
    print(f"{'input':>6} {'ms/image':>9} {'score>=':>8}  " + "  ".join(f"{h:>4}px" for h in HEIGHTS) + "  false+")
    with tempfile.TemporaryDirectory() as work:
        graph = fetch_tfjs(VARIANTS["multipose"], Path(work))
        for size in args.size:
            path = Path(work) / f"multipose_{size}.tflite"
            path.write_bytes(tfjs_to_tflite(graph, size))
            net = litert.interpreter(path, args.threads)
            inp, out = net.get_input_details()[0]["index"], net.get_output_details()[0]["index"]
            times, hits, total, false_pos = [], {t: [] for t in THRESHOLDS}, [], {t: 0 for t in THRESHOLDS}
            for h in HEIGHTS:
                total.append(0)
                for t in THRESHOLDS:
                    hits[t].append(0)
                for image, regions in scenes[h]:
                    side = max(image.size)
                    x0, y0 = (image.width - side) // 2, (image.height - side) // 2
                    patch = image.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.Resampling.BICUBIC)
                    start = time.perf_counter()
                    net.set_tensor(inp, np.asarray(patch, np.int32)[None])
                    net.invoke()
                    times.append(time.perf_counter() - start)
                    answer = net.get_tensor(out)[0]
                    total[-1] += len(regions)
                    for t in THRESHOLDS:
                        rows = answer[answer[:, 55] >= t]
                        boxes = [(x0 + r[52] * side, y0 + r[51] * side, x0 + r[54] * side, y0 + r[53] * side)
                                 for r in rows]
                        match = found(boxes, [r for _, r in regions])
                        hits[t][-1] += sum(m is not None for m in match)
                        false_pos[t] += len(boxes) - sum(m is not None for m in match)
            for t in THRESHOLDS:
                print(f"{size:>6} {1000 * float(np.median(times)):>9.1f} {t:>8.2f}  "
                      + "  ".join(f"{a / b:>6.2f}" for a, b in zip(hits[t], total)) + f"  {false_pos[t]:>6}",
                      flush=True)


def accuracy(args: argparse.Namespace) -> None:
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.pose.multipose import DEFAULT_MIN_PERSON_SCORE
    from poseclass.training.classifier import PoseClassifier
    from poseclass.training.dataset import load_splits

    yoga = load_splits(YOGA_TRAIN, progress=False)["train"]
    groups = np.array(yoga.groups(SUBJECT))
    train_data, val_data = yoga.subset(groups != "girl1").split(0.2, SUBJECT, seed=0)
    # The same recipe on MultiPose keypoints of the same images (`train --pose-model multipose`), validated
    # on the same subjects: only the keypoints differ.
    val_subjects = sorted(set(val_data.groups(SUBJECT)))
    multi = load_splits(YOGA_TRAIN, progress=False, variant="multipose")["train"]
    multi_groups = np.array(multi.groups(SUBJECT))
    held = np.isin(multi_groups, val_subjects)
    multi_train, multi_val = multi.subset((multi_groups != "girl1") & ~held), multi.subset(held)
    files = sorted(YOGA_TRAIN.glob("*/girl1_*.jpg"))
    truth = np.array([f.parent.name for f in files])
    with tempfile.TemporaryDirectory() as work:
        pipe = PosePipeline.load(PoseClassifier.create(train_data, val_data, verbose=0).export(Path(work) / "single"))
        multi_pipe = PosePipeline.load(
            PoseClassifier.create(multi_train, multi_val, verbose=0).export(Path(work) / "multi"))
        net = multi_pipe.multipose  # the MultiPose file the folder carries
        start = time.perf_counter()
        single = np.array([pipe.predict(f).label for f in files], dtype=object)
        single_ms = 1000 * (time.perf_counter() - start) / len(files)
        start = time.perf_counter()
        top = [net.detect(f, max_people=1, min_person_score=0.0)[0] for f in files]
        multi_ms = 1000 * (time.perf_counter() - start) / len(files)
        folder = np.array([multi_pipe.predict(f).label for f in files], dtype=object)  # no-person test applied
        poses = np.concatenate([p.pose.as_movenet() for p in top])
        confident = np.array([p.score >= DEFAULT_MIN_PERSON_SCORE for p in top])
        by_single = np.array(pipe.labels)[pipe.classifier.predict_proba(poses).argmax(1)]
        by_multi = np.array(multi_pipe.labels)[multi_pipe.classifier.predict_proba(poses).argmax(1)]
    rows = [
        ("single-pose chain (thunder-int8, up to 2 passes)", "thunder-int8", single == truth, single_ms),
        (f"multipose, person score >= {DEFAULT_MIN_PERSON_SCORE} (the default)", "thunder-int8",
         (by_single == truth) & confident, multi_ms),
        ("multipose, most confident answer whatever its score", "thunder-int8", by_single == truth, multi_ms),
        (f"multipose, person score >= {DEFAULT_MIN_PERSON_SCORE}", "multipose", (by_multi == truth) & confident,
         multi_ms),
        ("multipose, most confident answer whatever its score", "multipose", by_multi == truth, multi_ms),
        ("multipose folder's predict (top person, no-person test)", "multipose", folder == truth, multi_ms),
    ]
    print(f"girl1 (held out, never trained on): {len(files)} images; {int((~confident).sum())} have no MultiPose "
          f"person scoring >= {DEFAULT_MIN_PERSON_SCORE} (counted wrong where the threshold applies); trained on "
          f"{len(train_data)} thunder-int8 / {len(multi_train)} multipose poses, validated on subjects {val_subjects}")
    print(f"{'keypoints at inference':<56} {'classifier trained on':<22} {'accuracy':>15} {'ms/image':>9}")
    for name, trained_on, correct, ms in rows:
        print(f"{name:<56} {trained_on + ' keypoints':<22} {correct.mean():>6.3f} ({int(correct.sum())}/{len(files)})"
              f" {ms:>9.1f}")


def latency(args: argparse.Namespace) -> None:
    """ms per 3-person image: MultiPose once, against single-pose MoveNet once per person's crop."""
    from poseclass.pose.movenet import Crop, MoveNet
    from poseclass.pose.multipose import MultiPoseNet

    rng = np.random.default_rng(1)
    scenes = [composite(rng, 288) for _ in range(args.scenes)]
    print(f"{args.scenes} composites of 3 people (288 px tall) on 1280x720; median ms per image")
    print(f"{'model':<44} {'1 thread':>9} {'2 threads':>10}")
    models = [("multipose (384 px), once per image", lambda t: MultiPoseNet(num_threads=t), None)]
    models += [(f"{v} once per person crop (x3)", lambda t, v=v: MoveNet(v, num_threads=t), True)
               for v in ("thunder", "thunder-int8", "lightning")]
    for name, make, per_person in models:
        row = []
        for threads in (1, 2):
            net = make(threads)
            times = []
            for image, regions in scenes:
                start = time.perf_counter()
                if per_person:
                    for _, (x0, y0, x1, y1) in regions:  # the crops given (single-pose cannot find them)
                        side = max(x1 - x0, y1 - y0)
                        crop = Crop(x0 - (side - (x1 - x0)) / 2, y0 - (side - (y1 - y0)) / 2, side)
                        net.detect(image.crop(crop.box), passes=1)
                else:
                    net.detect(image)
                times.append(time.perf_counter() - start)
            row.append(1000 * float(np.median(times)))
        print(f"{name:<44} {row[0]:>9.1f} {row[1]:>10.1f}", flush=True)


def held_out_pipeline(args: argparse.Namespace, work: Path):
    """``--model``'s pipeline, or a classifier trained on every subject but girl1 (as tests/conftest.py)."""
    from poseclass.classify.pipeline import PosePipeline
    from poseclass.training.classifier import PoseClassifier
    from poseclass.training.dataset import load_splits

    if args.model:
        return PosePipeline.load(args.model)
    yoga = load_splits(YOGA_TRAIN, progress=False)["train"]
    groups = np.array(yoga.groups(SUBJECT))
    train_data, val_data = yoga.subset(groups != "girl1").split(0.2, SUBJECT, seed=0)
    return PosePipeline.load(PoseClassifier.create(train_data, val_data, verbose=0).export(work / "model"))


def topdown(args: argparse.Namespace) -> None:
    from poseclass.images import load_rgb
    from poseclass.pose.multipose import DEFAULT_MIN_PERSON_SCORE

    files = sorted(YOGA_TRAIN.glob("*/girl1_*.jpg"))
    truth = [f.parent.name for f in files]
    with tempfile.TemporaryDirectory() as work:
        pipe = held_out_pipeline(args, Path(work))
        photos = [load_rgb(f) for f in files]
        rows = []

        def multipose_only(image):
            people = pipe.multipose.detect(image)
            return pipe.classify_people(people)

        for name, find in (("single-person chain (predict)", None),
                           (f"MultiPose keypoints (--multi before; score >= {DEFAULT_MIN_PERSON_SCORE})",
                            multipose_only),
                           ("top-down (--multi now)", pipe.predict_people)):
            start, inferences = time.perf_counter(), pipe.movenet.inferences + pipe.multipose.inferences
            if find is None:
                labels = [pipe.predict(p).label for p in photos]
            else:
                labels = [people[0].label if people else None for people in map(find, photos)]
            ms = 1000 * (time.perf_counter() - start) / len(photos)
            runs = (pipe.movenet.inferences + pipe.multipose.inferences - inferences) / len(photos)
            right = sum(a == b for a, b in zip(labels, truth))
            rows.append((name, right, ms, runs))
        print(f"girl1 (held out): {len(files)} photos, one person each; top person")
        print(f"{'keypoints':<58} {'accuracy':>16} {'ms/image':>9} {'inferences':>11}")
        for name, right, ms, runs in rows:
            print(f"{name:<58} {right / len(files):>7.3f} ({right}/{len(files)}) {ms:>9.1f} {runs:>11.2f}")

        rng = np.random.default_rng(0)
        scores = {"MultiPose keypoints": [0, 0], "top-down": [0, 0]}
        for _ in range(args.pairs):
            i, j = rng.choice(len(files), 2, replace=False)
            image = Image.new("RGB", (600, 300))
            image.paste(photos[i].resize((300, 300)), (0, 0))
            image.paste(photos[j].resize((300, 300)), (300, 0))
            regions = [(truth[i], (0, 0, 300, 300)), (truth[j], (300, 0, 600, 300))]
            for name, find in (("MultiPose keypoints", multipose_only), ("top-down", pipe.predict_people)):
                people = find(image)
                match = found([p.box for p in people], [r for _, r in regions], containment=0.6)
                scores[name][0] += sum(m is not None and people[m].label == label
                                       for m, (label, _) in zip(match, regions))
                scores[name][1] += sum(m is not None for m in match)
        print(f"{args.pairs} pairs of two girl1 photos side by side (600x300): people found and named right")
        for name, (right, seen) in scores.items():
            print(f"  {name:<20} found {seen / (2 * args.pairs):.3f}, found and right {right / (2 * args.pairs):.3f}"
                  f" ({right}/{2 * args.pairs})")


def people_clip(rng: np.random.Generator, people: int, frames: int, block: int = 10):
    """Frames of ``people`` girl1 people side by side on 960x360, each holding a class for ``block`` frames
    (consecutive photos of that class) then another; per frame the truth ``[(label, region)]``."""
    slot = 960 // people
    plans = [[str(c) for c in rng.choice(CLASSES, frames // block + 1)] for _ in range(people)]
    pools = {c: sorted((YOGA_TRAIN / c).glob("girl1_*.jpg")) for c in CLASSES}
    starts = [{c: int(rng.integers(0, len(pools[c]) - block)) for c in CLASSES} for _ in range(people)]
    clip = []
    for k in range(frames):
        image, truth = Image.new("RGB", (960, 360), (128, 128, 128)), []
        for p in range(people):
            label = plans[p][k // block]
            photo = Image.open(pools[label][starts[p][label] + k % block]).convert("RGB").resize((300, 300))
            x, y = p * slot + (slot - 300) // 2, 30
            image.paste(photo, (x, y))
            truth.append((label, (x, y, x + 300, y + 300)))
        clip.append((image, truth))
    return clip


def video(args: argparse.Namespace) -> None:
    from poseclass.pose.movenet import Crop
    from poseclass.video.people import PeopleVideoClassifier

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as work:
        pipe = held_out_pipeline(args, Path(work))
        for people in args.people:
            clip = people_clip(rng, people, args.frames)
            print(f"{people} people, {len(clip)} frames (960x360, girl1 held out, a class change every 10 frames);"
                  " reference: one single-pose pass per person per frame on their crop, timed frame by frame"
                  " alongside (the same load)")
            print(f"  {'people found by':<34} {'per-person per-frame accuracy':>30} {'ms/frame':>9} {'reference':>10}"
                  f" {'x ref':>6} {'MultiPose runs':>15} {'single-pose/frame':>18}")
            for every in [None, *args.every]:
                clf = PeopleVideoClassifier(pipe, detect_every=every or 1)
                if every is None:
                    clf.pipeline = type(pipe)(pipe.movenet, pipe.classifier, None, pipe.multipose)
                    clf.pipeline._people = pipe.multipose  # MultiPose keypoints on every frame (before)
                runs, passes = pipe.multipose.inferences, pipe.movenet.inferences
                right = total = 0
                spent = reference = 0.0
                for k, (image, truth) in enumerate(clip):
                    start = time.perf_counter()
                    results = clf.push(image, k / 10)
                    spent += time.perf_counter() - start
                    passes += len(truth)  # the reference's passes below are not the classifier's
                    start = time.perf_counter()
                    for _, (x0, y0, x1, _) in truth:  # the crops given (each photo is a 300 px square)
                        pipe.movenet.detect_in(image, Crop(x0, y0, x1 - x0))
                    reference += time.perf_counter() - start
                    match = found([r.box for r in results], [r for _, r in truth], containment=0.6)
                    right += sum(m is not None and results[m].label == label for m, (label, _) in zip(match, truth))
                    total += len(truth)
                ms, ref_ms = 1000 * spent / len(clip), 1000 * reference / len(clip)
                name = "MultiPose every frame (before)" if every is None else f"top-down, MultiPose every {every}"
                print(f"  {name:<34} {right / total:>21.3f} ({right}/{total}) {ms:>9.1f} {ref_ms:>10.1f}"
                      f" {ms / ref_ms:>6.2f} {pipe.multipose.inferences - runs:>15}"
                      f" {(pipe.movenet.inferences - passes) / len(clip):>18.2f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("sizes")
    p.add_argument("--size", type=int, nargs="+", default=[256, 320, 384])
    p.add_argument("--scenes", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=sizes)
    p = sub.add_parser("accuracy")
    p.set_defaults(func=accuracy)
    p = sub.add_parser("latency")
    p.add_argument("--scenes", type=int, default=10)
    p.set_defaults(func=latency)
    p = sub.add_parser("topdown")
    p.add_argument("--model", help="a model folder (default: train one with girl1 held out)")
    p.add_argument("--pairs", type=int, default=100)
    p.set_defaults(func=topdown)
    p = sub.add_parser("video")
    p.add_argument("--model", help="a model folder (default: train one with girl1 held out)")
    p.add_argument("--people", type=int, nargs="+", default=[2, 3])
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--every", type=int, nargs="+", default=[1, 4, 8, 16])
    p.set_defaults(func=video)
    args = parser.parse_args()
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
