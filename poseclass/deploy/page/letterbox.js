// The square the fused model sees, made exactly as `poseclass predict` makes it (Python:
// poseclass.pose.movenet full_frame + square_input): the photo centred in the smallest square
// that holds it, padded with black, resized to size x size with Pillow's BICUBIC filter.
//
// Canvas drawImage cannot do this: browsers resample with their own filters. This is a port of
// Pillow's two-pass resampler for 8-bit images (libImaging/Resample.c): a = -0.5 cubic whose
// support widens with the reduction factor (an antialiasing filter), coefficients in 22-bit fixed
// point, each pass rounded and clipped to 0..255. Same arithmetic, same bytes.

const PRECISION_BITS = 22;                 // 32 - 8 - 2, as in Pillow
const HALF = 1 << (PRECISION_BITS - 1);    // rounding term added before the shift

function bicubic(x) {                      // Pillow's bicubic_filter, a = -0.5, same evaluation order
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

// For each output sample: the first input sample used, how many, and fixed-point weights (precompute_coeffs
// followed by normalize_coeffs_8bpc).
function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize), count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) { k[x] = bicubic((x + xmin - center + 0.5) * ss); ww += k[x]; }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    first[xx] = xmin; count[xx] = xmax;
  }
  return {first, count, weights, ksize};
}

const clip8 = (sum) => { const v = sum >> PRECISION_BITS; return v < 0 ? 0 : v > 255 ? 255 : v; };

// Python's round(): halves go to the even neighbour (the box edges are whole or half pixels).
function roundHalfEven(x) {
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

// The letterbox crop of a width x height image as a whole-pixel box (Crop.box of full_frame):
// it may reach past the image, and its sides may differ by a pixel after rounding.
export function letterboxBox(width, height) {
  const side = Math.max(width, height);
  const x0 = (width - side) / 2, y0 = (height - side) / 2;
  return {left: roundHalfEven(x0), top: roundHalfEven(y0),
          right: roundHalfEven(x0 + side), bottom: roundHalfEven(y0 + side)};
}

// rgba: the image's pixels (ImageData.data, width x height x 4). Returns {pixels: Uint8Array of
// size*size*3 RGB, box}: the fused model's input, and the box to map its keypoints back to pixels.
// Pixels outside the image are black (Pillow's crop pads with zeros).
export function letterbox(rgba, width, height, size) {
  const box = letterboxBox(width, height);
  const cropW = box.right - box.left, cropH = box.bottom - box.top;
  const h = coefficients(cropW, size), v = coefficients(cropH, size);
  // Horizontal pass: every crop row that holds image pixels -> size columns (others stay 0).
  const temp = new Uint8Array(cropH * size * 3);
  for (let y = 0; y < cropH; y++) {
    const iy = box.top + y;
    if (iy < 0 || iy >= height) continue;
    const row = iy * width * 4;
    for (let xx = 0; xx < size; xx++) {
      let r = HALF, g = HALF, b = HALF;
      const start = box.left + h.first[xx], base = xx * h.ksize;
      const end = Math.min(h.count[xx], width - start);   // taps on padding add 0: skip them
      for (let t = Math.max(0, -start); t < end; t++) {
        const w = h.weights[base + t], p = row + (start + t) * 4;
        r += rgba[p] * w; g += rgba[p + 1] * w; b += rgba[p + 2] * w;
      }
      const o = (y * size + xx) * 3;
      temp[o] = clip8(r); temp[o + 1] = clip8(g); temp[o + 2] = clip8(b);
    }
  }
  // Vertical pass: size rows.
  const pixels = new Uint8Array(size * size * 3);
  for (let yy = 0; yy < size; yy++) {
    const base = yy * v.ksize, start = v.first[yy];
    for (let xx = 0; xx < size; xx++) {
      let r = HALF, g = HALF, b = HALF;
      for (let t = 0; t < v.count[yy]; t++) {
        const w = v.weights[base + t], p = ((start + t) * size + xx) * 3;
        r += temp[p] * w; g += temp[p + 1] * w; b += temp[p + 2] * w;
      }
      const o = (yy * size + xx) * 3;
      pixels[o] = clip8(r); pixels[o + 1] = clip8(g); pixels[o + 2] = clip8(b);
    }
  }
  return {pixels, box};
}
