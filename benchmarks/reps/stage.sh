#!/bin/bash
# Stage the real-footage repetition set "reps" (10 short public clips of one person doing a countable
# exercise: 7 of squats, 1 each of jumping jacks, side lunges, push-ups; repetitions marked by hand in
# reps.csv and rep_times.csv) from git snapshots of the public repositories below, then verify the
# clips against SHA256SUMS.
#   1. get a git snapshot (a bare clone is enough; full history is needed for luizfcharry/MrPose,
#      malikmrllh/exercises and Rom-Levi1/exercise-form-app, whose clips sit in older commits) of
#      each of these public repositories:
#        luizfcharry/MrPose
#        ikramaliokz/SquatCounting-YoloNasPose
#        yuyoujiang/test_video
#        rohanx01/Squat-Analysis-Model
#        Rom-Levi1/exercise-form-app
#        Chdh11/Human-Pose-Estimation
#        malikmrllh/exercises
#      and put them side by side in one folder, each named owner+name (e.g. luizfcharry+MrPose),
#      either as the git directory itself or as a folder holding it as repo/.
#   2. stage.sh SNAPSHOTS_DIR DEST
# Writes DEST/<clip name> (names as in reps.csv), each taken from its repository at a fixed commit
# and path (table below). Every clip is under 4 MiB (no Git LFS). Never commit the clips: stage them
# into a git-ignored folder. The footage is third-party (see README.md): use it to measure, never
# redistribute it.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SNAP=$1; DEST=$2
mkdir -p "$DEST"
status=0
while IFS=$'\t' read -r name repo commit path; do
  [ -z "$name" ] && continue
  d="$SNAP/${repo/\//+}"
  if [ -d "$d/repo" ]; then g="$d/repo"; else g="$d"; fi
  if [ ! -d "$g" ]; then echo "missing snapshot of $repo (expected $d)" >&2; status=1; continue; fi
  if ! git --git-dir="$g" show "$commit:$path" >"$DEST/$name" 2>/dev/null; then
    echo "cannot read $repo@$commit:$path" >&2; rm -f "$DEST/$name"; status=1
  fi
done <<'CLIPS'
airsquat_crossfit.mp4	luizfcharry/MrPose	3ce795c22864bda8ff1d66b4b9325be98c1a6add	squat.mp4
airsquat_gym.mp4	luizfcharry/MrPose	3ce795c22864bda8ff1d66b4b9325be98c1a6add	squat2.mp4
squat_hold_crossfit.mp4	ikramaliokz/SquatCounting-YoloNasPose	4b0be2f9d895b9a5bfb7fe83648e59d774c1ebca	squat.mp4
squat_side_home.mp4	yuyoujiang/test_video	55351f37009a60d9f59431fd0667900db2ab8c08	squat.mp4
backsquat_gym.mp4	rohanx01/Squat-Analysis-Model	49db5ea81034f22b9d46df6123098e0e80b81c34	squat.mp4
squat_home_phone.mp4	Rom-Levi1/exercise-form-app	9fe51cdac619afedbbab9c6b01d1676454b38afc	squat.mp4
squat_tips_cuts.mp4	Chdh11/Human-Pose-Estimation	723bc79c68642b9cdfa74d4fc49283a98346314d	squat.mp4
jumping_jacks.mp4	luizfcharry/MrPose	3ce795c22864bda8ff1d66b4b9325be98c1a6add	jacks.mp4
side_lunges.mp4	malikmrllh/exercises	f34773458a20ca68126ed9e453760f4fa3549645	sidelunges.mp4
pushups_crossfit.mp4	luizfcharry/MrPose	6d02e020875716affa5f742017201eac41f7bfbe	pushup.mp4
CLIPS
(cd "$DEST" && sha256sum -c --quiet "$HERE/SHA256SUMS") && [ $status -eq 0 ] && echo "reps staged in $DEST and verified"
