/* Grow: the field that dilates the mask before a fill, by 0 up to the server's limit (CE_MAX_GROW).
 * A value beyond that range is set back to it in the field, with a word why, so the field
 * always shows what a fill sends; and the ring the fill will cover beyond the painted mask
 * is previewed around it, computed exactly as the server grows it (holes.js).
 */

import { MASK_COLOUR, maskBounds, maskHole } from './canvas.js';
import { els, setStatus } from './dom.js';
import { growHole } from './holes.js';
import { config } from './settings.js';

const MAX_GROW = Number(config.max_grow) || 64; // px: the server's limit for grow (CE_MAX_GROW)

let frame = 0; // the animation frame the preview is drawn in, when one is pending

/** The field's value as a fill would send it: a whole number in 0-MAX_GROW. */
function readGrow() {
  const raw = Math.round(Number(els.grow.value));
  return Number.isFinite(raw) ? Math.min(MAX_GROW, Math.max(0, raw)) : 0;
}

/** The Grow value to send, after setting the field to it if it said something else (a value
 * over the limit, a negative one, a fraction), saying so on the status line. */
export function settleGrow() {
  const value = readGrow();
  if (els.grow.value !== String(value)) {
    const typed = els.grow.value;
    els.grow.value = String(value);
    if (Number(typed) > MAX_GROW) {
      setStatus(`Grow goes up to ${MAX_GROW} px (the server's limit): set to ${MAX_GROW} px.`);
    }
  }
  return value;
}

/** Redraws the preview of the grown ring at the next frame (after the mask or Grow changed). */
export function schedulePreview() {
  cancelAnimationFrame(frame);
  frame = requestAnimationFrame(drawPreview);
}

/** The grown ring on its own canvas over the photo, covering only the mask's box plus the
 * growth (a 48 MP photo needs no third full-size canvas), placed in percent of the photo so
 * it scales with the view like the mask does. */
function drawPreview() {
  const px = readGrow();
  const bounds = px > 0 && els.mask.width ? maskBounds() : null;
  const preview = els.growPreview;
  if (!bounds) {
    preview.hidden = true;
    delete preview.dataset.region;
    return;
  }
  const { width: photoWidth, height: photoHeight } = els.mask;
  const left = Math.max(0, bounds[0] - px);
  const top = Math.max(0, bounds[1] - px);
  const width = Math.min(photoWidth, bounds[2] + px) - left;
  const height = Math.min(photoHeight, bounds[3] + px) - top;
  const hole = maskHole([left, top, width, height]);
  const grown = growHole(hole, width, height, px);
  preview.width = width;
  preview.height = height;
  const ctx = preview.getContext('2d');
  const ring = ctx.createImageData(width, height);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(MASK_COLOUR.slice(i, i + 2), 16));
  for (let i = 0; i < grown.length; i += 1) {
    if (grown[i] && !hole[i]) ring.data.set([r, g, b, 255], i * 4);
  }
  ctx.putImageData(ring, 0, 0);
  Object.assign(preview.style, {
    left: `${(100 * left) / photoWidth}%`,
    top: `${(100 * top) / photoHeight}%`,
    width: `${(100 * width) / photoWidth}%`,
    height: `${(100 * height) / photoHeight}%`,
  });
  preview.dataset.region = [left, top, width, height].join(',');
  preview.hidden = false;
}
