// poseclass web page: a photo or the camera -> pose_fused.tflite (MoveNet + classifier, one graph) -> label.
// Runs offline: LiteRT.js (WebAssembly) from ./vendor, the model and its settings from this folder
// (written by `poseclass deploy MODEL_DIR --web OUT_DIR`).
//
// Machine interface: ?image=NAME classifies ./NAME on load, ?camera=1 starts the camera on load;
// <pre id="result"> always holds the latest result as JSON:
//   {"status": "ok" | "unknown" | "no_pose" | "error", "label": "tree" | null, "probabilities": {"chair": 0.01, ...},
//    "presence": ..., "inference_ms": ..., "source": NAME | "camera", "frames": N (camera)}
// label is null when nobody is there (probabilities {}) or the pose is none of the classes ("unknown").

import {loadLiteRt, loadAndCompile, Tensor} from './vendor/litert/litert.js';
import {letterbox} from './letterbox.js';

const SETTINGS = './model.json';   // labels, input size, smoothing alpha, no-person score: poseclass's own values
const WASM_DIR = './vendor/litert/wasm/';
const CONFIDENT = 0.3;             // keypoints under this score are drawn hollow, their bones thin (as poseclass draws)
const SKELETON = [[0, 1], [0, 2], [1, 3], [2, 4], [5, 6], [5, 7], [7, 9], [6, 8], [8, 10], [5, 11], [6, 12],
                  [11, 12], [11, 13], [13, 15], [12, 14], [14, 16]];   // COCO keypoint pairs
const colour = (i) => i === 0 ? '#fff' : i % 2 ? 'rgb(255,140,0)' : 'rgb(0,170,255)';  // left orange, right blue
// Headless Chromium's --virtual-time-budget (e.g. with --dump-dom) runs its clock ahead whenever no network
// fetch is pending, and would stop the page while WebAssembly compiles or a photo decodes off the main thread.
const HEADLESS = /Headless/.test(navigator.userAgent);

const $ = (id) => document.getElementById(id);
const view = $('view');
const work = document.createElement('canvas');            // where frames are read back as pixels
const workContext = work.getContext('2d', {willReadFrequently: true});
let model, settings, labels, size, probabilitiesIndex, keypointsIndex;
let stream = null;

function status(text) { $('status').textContent = text; }

function publish(result) {                                 // the machine-readable result
  $('result').textContent = JSON.stringify(result);
}

// Under headless Chromium, keep fetching the model (a 25 MB read from the server) until `work` settles, so that
// virtual time waits for it; a normal browser just awaits `work`.
async function settled(work) {
  if (!HEADLESS) return work;
  const abort = new AbortController();
  let done = false;
  const busy = (async () => {
    while (!done) await (await fetch(`./${settings.model}?busy`, {signal: abort.signal, cache: 'no-store'})).arrayBuffer();
  })().catch(() => null);
  try { return await work; } finally { done = true; abort.abort(); await busy; }
}

async function load() {
  status('loading the runtime and the model…');
  const started = performance.now();
  settings = await (await fetch(SETTINGS)).json();
  labels = settings.labels;
  await settled(loadLiteRt(WASM_DIR));                     // picks the relaxed-SIMD or the compatible build
  model = await settled(loadAndCompile(`./${settings.model}`, {accelerator: 'wasm'}));
  size = model.getInputDetails()[0].shape[1];
  if (size !== settings.input_size) throw new Error(`the model takes ${size} px, model.json says ${settings.input_size}`);
  const outputs = model.getOutputDetails();                // [1, N] probabilities and [1, 1, 17, 3] keypoints
  probabilitiesIndex = outputs.findIndex((d) => d.shape.length === 2);
  keypointsIndex = outputs.findIndex((d) => d.shape.length === 4);
  for (const label of labels) {
    const row = document.createElement('div');
    row.className = 'row';
    row.innerHTML = `<span class="name"></span><span class="bar"><span></span></span><span class="value"></span>`;
    row.querySelector('.name').textContent = label;
    $('bars').append(row);
  }
  status(`ready (loaded in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

// The RGBA pixels of an image, bitmap or video frame, drawn on mid grey (as poseclass composites transparency).
function pixelsOf(source, width, height) {
  work.width = width;
  work.height = height;
  workContext.fillStyle = 'rgb(128,128,128)';
  workContext.fillRect(0, 0, width, height);
  workContext.drawImage(source, 0, 0);
  return workContext.getImageData(0, 0, width, height).data;
}

// One pass of the fused model on a frame: letterbox, run, read both outputs.
async function infer(source, width, height) {
  const {pixels, box} = letterbox(pixelsOf(source, width, height), width, height, size);
  const started = performance.now();
  const input = new Tensor(pixels, [1, size, size, 3]);
  const outputs = await model.run([input]);
  const probabilities = Array.from(outputs[probabilitiesIndex].toTypedArray());
  const keypoints = Array.from(outputs[keypointsIndex].toTypedArray());   // 17 x (y, x, score) in the square
  input.delete();
  outputs.forEach((t) => t.delete());
  const scores = keypoints.filter((_, i) => i % 3 === 2).sort((a, b) => b - a);
  const presence = scores.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
  window.poseclassLast = {input: pixels, box, keypoints};  // for tests
  return {probabilities, keypoints, box, presence, person: presence >= settings.no_person_below,
          ms: performance.now() - started};
}

// Keypoints are (y, x) in [0, 1] of the square the model saw; the box maps them back to image pixels.
function drawSkeleton(context, keypoints, box, width, height) {
  const side = box.right - box.left;
  const point = (i) => [box.left + keypoints[3 * i + 1] * side, box.top + keypoints[3 * i] * side];
  const score = (i) => keypoints[3 * i + 2];
  const radius = Math.max(2, Math.round(Math.max(width, height) / 120));
  for (const [a, b] of SKELETON) {
    context.strokeStyle = colour(b);
    context.lineWidth = Math.min(score(a), score(b)) >= CONFIDENT ? radius : 1;
    context.beginPath();
    context.moveTo(...point(a));
    context.lineTo(...point(b));
    context.stroke();
  }
  for (let i = 0; i < 17; i++) {
    context.beginPath();
    context.arc(...point(i), radius, 0, 2 * Math.PI);
    context.strokeStyle = score(i) >= CONFIDENT ? '#000' : colour(i);
    context.lineWidth = 1;
    if (score(i) >= CONFIDENT) { context.fillStyle = colour(i); context.fill(); }
    context.stroke();
  }
}

// Show the frame, skeleton, label and bars; publish the JSON. probabilities: null when nobody is there.
function show(source, width, height, run, probabilities, extra) {
  view.width = width;
  view.height = height;
  const context = view.getContext('2d');
  context.drawImage(source, 0, 0);
  if (run.person) drawSkeleton(context, run.keypoints, run.box, width, height);
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  const unknown = best >= 0 && settings.unknown_below != null && probabilities[best] < settings.unknown_below;
  const label = best >= 0 && !unknown ? labels[best] : null;
  $('label').textContent = label ? `${label} ${probabilities[best].toFixed(2)}` : unknown ? 'unknown' : 'no person';
  [...$('bars').children].forEach((row, i) => {
    const p = probabilities ? probabilities[i] : 0;
    row.querySelector('.bar span').style.width = `${(100 * p).toFixed(1)}%`;
    row.querySelector('.value').textContent = probabilities ? p.toFixed(3) : '–';
    row.classList.toggle('top', i === best);
  });
  publish({status: label ? 'ok' : unknown ? 'unknown' : 'no_pose', label,
           probabilities: probabilities ? Object.fromEntries(labels.map((l, i) => [l, probabilities[i]])) : {},
           presence: run.presence, inference_ms: Math.round(run.ms), ...extra});
}

async function classifyImage(blob, name) {
  stopCamera();
  status(`classifying ${name}…`);
  // EXIF rotation applied and colour profiles ignored, as Pillow does in poseclass.
  const bitmap = await settled(createImageBitmap(blob, {imageOrientation: 'from-image', colorSpaceConversion: 'none'}));
  const run = await infer(bitmap, bitmap.width, bitmap.height);
  view.classList.remove('mirrored');
  show(bitmap, bitmap.width, bitmap.height, run, run.person ? run.probabilities : null, {source: name});
  bitmap.close();
  status(`${name}: MoveNet + classifier ${Math.round(run.ms)} ms`);
}

async function startCamera() {
  const constraints = {video: {width: {ideal: 640}, height: {ideal: 480}}, audio: false};
  const mine = stream = await settled(navigator.mediaDevices.getUserMedia(constraints));
  const video = $('video');
  video.srcObject = mine;
  await settled(video.play());                             // resolves once frames are coming
  view.classList.add('mirrored');                          // a selfie view; the model sees the frame as it is
  $('camera').textContent = 'Stop camera';
  let smoothed = null, frames = 0, virtualTime = false;
  while (stream === mine) {                                // until stopped (or restarted: a new loop takes over)
    if (video.readyState >= 2 && video.videoWidth) {
      const {videoWidth: width, videoHeight: height} = video;
      const run = await infer(video, width, height);
      // The CLI's moving average (poseclass.video.filters.Smoother), forgotten when nobody is there.
      const alpha = settings.smoothing_alpha;
      smoothed = !run.person ? null
        : smoothed ? run.probabilities.map((p, i) => alpha * p + (1 - alpha) * smoothed[i]) : run.probabilities;
      frames += 1;
      if (stream !== mine) break;
      show(video, width, height, run, smoothed, {source: 'camera', frames});
      status(`camera ${width}×${height}: MoveNet + classifier ${Math.round(run.ms)} ms per frame`);
      // A clock that stands still while the model runs is headless Chromium's virtual time: there, give each
      // frame a second of it, so that a --virtual-time-budget of N ms sees about N / 1000 frames.
      virtualTime ||= HEADLESS && run.ms === 0;
    }
    await new Promise((resolve) => setTimeout(resolve, virtualTime ? 1000 : 0));  // let the page breathe
  }
}

function stopCamera() {
  if (!stream) return;
  stream.getTracks().forEach((track) => track.stop());
  stream = null;
  $('video').srcObject = null;
  $('camera').textContent = 'Start camera';
}

function fail(error) {
  console.error(error);
  status(`error: ${error.message || error}`);
  publish({status: 'error', label: null, probabilities: {}, error: String(error.message || error)});
}

async function main() {
  await load();
  $('file').addEventListener('change', (e) => e.target.files[0] && classifyImage(e.target.files[0], e.target.files[0].name).catch(fail));
  $('camera').addEventListener('click', () => (stream ? stopCamera() : startCamera().catch(fail)));
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (file) classifyImage(file, file.name).catch(fail);
  });
  const query = new URLSearchParams(location.search);
  if (query.get('image')) {
    const name = query.get('image');
    const response = await fetch(name);
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    await classifyImage(await response.blob(), name);
  } else if (query.get('camera')) {
    await startCamera();
  }
}

main().catch(fail);
