/* The two stacked canvases: the photo (#image-canvas) and the mask painted over it (#canvas).
 *
 * Both hold the photo's full resolution and CSS scales them to the view, so painting maps
 * client coordinates through the canvas's bounding box and every mask pixel is exactly one
 * photo pixel: the mask sent to the server is already aligned with the photo. This module
 * draws the mask (the history's mask operations plus the stroke being painted), owns that
 * live stroke, and reads the mask back: export for upload, bounding box, import of a file.
 */

import { els } from './dom.js';
import * as history from './history.js';
import { bitmapCanvas, canvasToBlob, drawImage, drawOriented } from './images.js';
import { safeStorage } from './settings.js';

export const MASK_COLOUR = '#ff3d6e'; // painted opaque; the canvas element's CSS opacity tints it
const MASK_COLOUR_KEY = 'inpaint.maskColour';
// the mask is painted in MASK_COLOUR; other colours are a hue rotation of the whole canvas,
// so what is painted (and sent) never changes, only how it shows over the photo
const MASK_FILTERS = { pink: 'none', cyan: 'hue-rotate(170deg)', lime: 'hue-rotate(255deg) saturate(1.4)' };

const imageCtx = els.image.getContext('2d');
const maskCtx = els.mask.getContext('2d');

let shownImage = null; // the image object currently drawn on the image canvas
let stroke = null; // the stroke being painted (not yet in the history)

/** Full-resolution canvases for a newly opened photo (this clears both). */
export function resize(width, height) {
  shownImage = null;
  els.image.width = els.mask.width = width;
  els.image.height = els.mask.height = height;
}

/** Draws ``img`` (an image, see images.js) on the photo canvas; while a photo is still
 * decoding, its preview (``img.preview``: the JPEG's thumbnail, turned upright) if it has one. */
export function showImage(img) {
  if (shownImage === img) return;
  if (addsPatches(img, shownImage)) {
    // a fill of what is shown: paste its patch (opaque on the hole only) instead of redrawing
    // a 48 MP photo and every earlier patch
    for (const patch of img.patches.slice(shownImage.patches.length)) {
      imageCtx.drawImage(patch.bitmap, patch.left, patch.top);
    }
  } else {
    imageCtx.clearRect(0, 0, els.image.width, els.image.height);
    if (img.bitmap) drawImage(imageCtx, img);
    else if (img.preview) drawOriented(imageCtx, img.preview.bitmap, img.preview.orientation, img.width, img.height);
  }
  shownImage = img;
}

/** Whether ``img`` is ``shown`` with more patches pasted over it. */
const addsPatches = (img, shown) =>
  Boolean(shown && shown.bitmap) &&
  img.bitmap === shown.bitmap &&
  img.patches.length > shown.patches.length &&
  shown.patches.every((patch, i) => img.patches[i] === patch);

/** Shows the mask in the colour called ``name`` (pink, cyan or lime) and remembers it. */
export function setMaskColour(name) {
  const colour = name in MASK_FILTERS ? name : 'pink';
  els.maskColour.value = colour;
  els.mask.style.filter = els.growPreview.style.filter = MASK_FILTERS[colour];
  safeStorage('set', MASK_COLOUR_KEY, colour);
}

export const savedMaskColour = () => safeStorage('get', MASK_COLOUR_KEY);

// ---------------------------------------------------------------- drawing

function strokeStyle(ctx, s) {
  ctx.globalCompositeOperation = s.mode === 'erase' ? 'destination-out' : 'source-over';
  ctx.strokeStyle = MASK_COLOUR;
  ctx.fillStyle = MASK_COLOUR;
  ctx.lineWidth = s.size;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
}

function drawDot(ctx, s, [x, y]) {
  strokeStyle(ctx, s);
  ctx.beginPath();
  ctx.arc(x, y, s.size / 2, 0, Math.PI * 2);
  ctx.fill();
}

function drawSegment(ctx, s, [x0, y0], [x1, y1]) {
  strokeStyle(ctx, s);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

/** Replays a whole stroke exactly as it was painted live (dot, then segments). */
function drawStroke(ctx, s) {
  const pts = s.points;
  drawDot(ctx, s, pts[0]);
  for (let i = 1; i < pts.length; i += 1) drawSegment(ctx, s, pts[i - 1], pts[i]);
}

/** Redraws the mask from the history's mask operations and the live stroke. */
export function redrawMask() {
  maskCtx.globalCompositeOperation = 'source-over';
  maskCtx.clearRect(0, 0, els.mask.width, els.mask.height);
  for (const op of history.maskOperations()) {
    if (op.type === 'clear') maskCtx.clearRect(0, 0, els.mask.width, els.mask.height);
    else if (op.type === 'stroke') drawStroke(maskCtx, op);
    else if (op.type === 'maskImage') {
      maskCtx.globalCompositeOperation = 'source-over';
      maskCtx.drawImage(op.bitmap, 0, 0);
    }
  }
  if (stroke) drawStroke(maskCtx, stroke);
}

// ---------------------------------------------------------------- the live stroke

/** Client coordinates -> image pixels, whatever the CSS scale of the canvas. */
export function toImage(e) {
  const rect = els.mask.getBoundingClientRect();
  return [
    ((e.clientX - rect.left) * els.mask.width) / rect.width,
    ((e.clientY - rect.top) * els.mask.height) / rect.height,
  ];
}

/** The stroke being painted ({mode, size, points, pointerId, started}), or null. */
export const liveStroke = () => stroke;

/** Starts a stroke ('paint' or 'erase', ``size`` image pixels wide) with a dot at ``point``. */
export function startStroke(point, mode, size, pointerId) {
  stroke = { type: 'stroke', mode, size, points: [point], pointerId, started: performance.now() };
  drawDot(maskCtx, stroke, point);
}

export function extendStroke(point) {
  const pts = stroke.points;
  const last = pts[pts.length - 1];
  if (Math.hypot(point[0] - last[0], point[1] - last[1]) < 0.5) return; // sub-pixel jitter
  pts.push(point);
  drawSegment(maskCtx, stroke, last, point);
}

/** Ends the live stroke; returns it as a history operation. */
export function endStroke() {
  const { type, mode, size, points } = stroke;
  stroke = null;
  return { type, mode, size, points };
}

/** Drops the live stroke and what it painted. */
export function cancelStroke() {
  if (!stroke) return;
  stroke = null;
  redrawMask();
}

// ---------------------------------------------------------------- reading the mask

/** The mask's pixels in ``region`` [left, top, width, height] as a hole array (one byte a
 * pixel, 1 = painted: alpha > 127, what the server gets), see holes.js. */
export function maskHole([left, top, width, height]) {
  const px = maskCtx.getImageData(left, top, width, height).data;
  const hole = new Uint8Array(width * height);
  for (let i = 0; i < hole.length; i += 1) hole[i] = px[i * 4 + 3] > 127 ? 1 : 0;
  return hole;
}

/** The mask at full image resolution (or in ``region``), binarised so the server sees
 * exactly what is shown: opaque white where painted, transparent elsewhere. Null when
 * nothing is painted there. */
export async function exportMask(region = [0, 0, els.mask.width, els.mask.height]) {
  const [left, top, width, height] = region;
  const data = maskCtx.getImageData(left, top, width, height);
  const px = data.data;
  let painted = 0;
  for (let i = 0; i < px.length; i += 4) {
    const on = px[i + 3] > 127 ? 255 : 0;
    px[i] = px[i + 1] = px[i + 2] = px[i + 3] = on;
    painted += on & 1;
  }
  if (!painted) return null;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(data, 0, 0);
  return canvasToBlob(canvas, 'image/png');
}

/** Where the history's operations may have painted, [x0, y0, x1, y1) (a box that holds the
 * mask, cheap to know): reading only there keeps a 48 MP photo's mask quick to measure. */
function paintedBox() {
  const { width, height } = els.mask;
  let box = null;
  const add = (x0, y0, x1, y1) => {
    if (!box) box = [x0, y0, x1, y1];
    else box = [Math.min(box[0], x0), Math.min(box[1], y0), Math.max(box[2], x1), Math.max(box[3], y1)];
  };
  for (const op of history.maskOperations()) {
    if (op.type === 'clear') box = null;
    else if (op.type === 'maskImage') add(...op.box);
    else if (op.type === 'stroke' && op.mode === 'paint') {
      const r = op.size / 2 + 2;
      for (const [x, y] of op.points) add(x - r, y - r, x + r, y + r);
    }
  }
  if (!box) return null;
  const [x0, y0] = [Math.max(0, Math.floor(box[0])), Math.max(0, Math.floor(box[1]))];
  const [x1, y1] = [Math.min(width, Math.ceil(box[2])), Math.min(height, Math.ceil(box[3]))];
  return x1 > x0 && y1 > y0 ? [x0, y0, x1, y1] : null;
}

/** Bounding box [x0, y0, x1, y1) of the painted mask, or null. */
export function maskBounds() {
  const box = paintedBox();
  if (!box) return null;
  const [left, top] = box;
  const width = box[2] - left;
  const height = box[3] - top;
  const hole = maskHole([left, top, width, height]);
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if (hole[y * width + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : [left + x0, top + y0, left + x1 + 1, top + y1 + 1];
}

/** A mask file's pixels read by the server's rule (opaque = fill when it has transparency,
 * else white, luminance > 127), as a bitmap painted like the brush paints, ready to draw as a
 * 'maskImage' operation, with the box [x0, y0, x1, y1) of what it marks (so a fill reads only
 * that box of a 48 MP mask); null when it marks nothing. */
export async function maskBitmapFrom(bitmap) {
  const { width, height } = bitmap;
  const canvas = bitmapCanvas(bitmap);
  const data = canvas.getContext('2d').getImageData(0, 0, width, height);
  const px = data.data;
  let transparent = false;
  for (let i = 3; i < px.length; i += 4) if (px[i] <= 127) { transparent = true; break; }
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(MASK_COLOUR.slice(i, i + 2), 16));
  let [x0, y0, x1, y1] = [width, height, 0, 0];
  for (let i = 0; i < px.length; i += 4) {
    const luminance = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
    const on = transparent ? px[i + 3] > 127 : luminance > 127;
    px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = on ? 255 : 0;
    if (on) {
      const pixel = i / 4;
      const x = pixel % width;
      const y = (pixel - x) / width;
      if (x < x0) x0 = x;
      if (x >= x1) x1 = x + 1;
      if (y < y0) y0 = y;
      y1 = y + 1;
    }
  }
  if (x1 === 0) return null;
  canvas.getContext('2d').putImageData(data, 0, 0);
  return { bitmap: await createImageBitmap(canvas), box: [x0, y0, x1, y1] };
}
