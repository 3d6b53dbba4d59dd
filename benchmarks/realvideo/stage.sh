#!/bin/bash
# Stage the real-video development set "realvideo" (17 short public clips of real people doing yoga,
# marked by hand in stretches.csv) from git snapshots of the public repositories below, then verify
# the clips against SHA256SUMS.
#   1. get a git snapshot (a bare clone is enough; full history needed for malikmrllh/exercises,
#      whose clips sit in an older commit) of each of these public repositories:
#        AlishbahGhazanfar/Yoga-Pose-Estimation
#        FPT-ThaiTuan/Using-deep-learning-to-classify-and-support-yoga-practitioners
#        akimanku14/Personal-Yoga-Trainer
#        shailendrabhosale/PoseAlign
#        Elfhelm07/yoga_pose_detector-and-corrector
#        malikmrllh/exercises
#        Ankithmj07/Workout-Monitoring-System
#        nisaerdal/MediaPipe_Uygulama
#        ShreyaDadhich/Posture_Detection
#        samthakur587/yogapose
#      and put them side by side in one folder, each named owner+name (e.g. samthakur587+yogapose),
#      either as the git directory itself or as a folder holding it as repo/.
#   2. stage.sh SNAPSHOTS_DIR DEST
# Writes DEST/<clip name> (names as in stretches.csv), each taken from its repository at a fixed
# commit and path (table below). Never commit the clips: stage them into a git-ignored folder.
# The footage is third-party (see README.md): use it to measure, never redistribute it.
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
warrior_flow.mp4	AlishbahGhazanfar/Yoga-Pose-Estimation	bca3ce73897bfc08c50888a0d7402623e9a7a7aa	yoga.mp4
childs_downdog.mp4	FPT-ThaiTuan/Using-deep-learning-to-classify-and-support-yoga-practitioners	b0de3a71f445b93817d42b63774a106f421782e3	downdog.mp4
warrior2_man.mp4	FPT-ThaiTuan/Using-deep-learning-to-classify-and-support-yoga-practitioners	b0de3a71f445b93817d42b63774a106f421782e3	test2.mp4
goddess.mp4	akimanku14/Personal-Yoga-Trainer	17c56c65d6661e3e7e69980900b2cad6e1810f11	goddess-pose.mp4
warrior1_talk.mp4	akimanku14/Personal-Yoga-Trainer	17c56c65d6661e3e7e69980900b2cad6e1810f11	warrior-1.mp4
warrior1_cuts.mp4	akimanku14/Personal-Yoga-Trainer	17c56c65d6661e3e7e69980900b2cad6e1810f11	warrior-2.mp4
warrior1_lunge.mp4	shailendrabhosale/PoseAlign	8f98e0f0ac216aaaf0b1b4c837bf36e81242e8ce	warrior.mp4
seated_lying.mp4	shailendrabhosale/PoseAlign	8f98e0f0ac216aaaf0b1b4c837bf36e81242e8ce	morning_yoga.mp4
halfmoon.mp4	Elfhelm07/yoga_pose_detector-and-corrector	a5d356620a03fbd5ae00d61e4c8c2eda74de538a	half-moon-pose.mp4
forearm_plank.mp4	malikmrllh/exercises	65b8722b08eeb2e782771c83eb77b408df635faa	plank.mp4
glute_bridge.mp4	malikmrllh/exercises	65b8722b08eeb2e782771c83eb77b408df635faa	buttbridge.mp4
cobra.mp4	malikmrllh/exercises	65b8722b08eeb2e782771c83eb77b408df635faa	cobra.mp4
plank_gym.mp4	Ankithmj07/Workout-Monitoring-System	22777592f6eaf0158eceeec13433ea9399e39aa4	plank.mp4
downdog_envato.mp4	Ankithmj07/Workout-Monitoring-System	22777592f6eaf0158eceeec13433ea9399e39aa4	downward_dog.mp4
tree_balance.mp4	nisaerdal/MediaPipe_Uygulama	92784d22c9e5cea14db17449cc6bdc4ffab2b5ec	yoga.mp4
mountain_armsup.mp4	ShreyaDadhich/Posture_Detection	77a419c04b028c2faa365a9d337ac5463c79254d	extended-mountain-pose.mp4
tree_howcast.mp4	samthakur587/yogapose	945a0d70ee4f6f023c75350bcf739bae2e55709f	tree.mp4
CLIPS
(cd "$DEST" && sha256sum -c --quiet "$HERE/SHA256SUMS") && [ $status -eq 0 ] && echo "realvideo staged in $DEST and verified"
