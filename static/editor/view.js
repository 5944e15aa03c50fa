/* Zoom and pan of the stage: fit to the stage (kept on resize until the person zooms by
 * hand), zoom about a point (buttons, keys, Ctrl+wheel, pinch), steps that stop at 1:1, and
 * scrolling for panning. It sizes the canvas wrapper; the canvases scale with it.
 */

import { updateCursorShape } from './brush.js';
import { els } from './dom.js';
import { hideStill } from './still.js';

const MIN_ZOOM = 0.02;
const MAX_ZOOM = 16;
const MAX_FIT_ZOOM = 4; // small images are enlarged to fit, but not absurdly

let photo = null; // {width, height} of the open photo
let zoom = 1;
let fitMode = true; // keep fitting on resize until the person zooms by hand

export const currentZoom = () => zoom;

/** A newly opened photo of this size, fitted to the stage. */
export function showPhoto(width, height) {
  photo = { width, height };
  fitToStage();
}

function fitZoom() {
  if (!photo) return 1;
  const style = getComputedStyle(els.stage);
  // 2 px of slack so rounding can never add scrollbars (which would shrink the stage and refit).
  const w = els.stage.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 2;
  const h = els.stage.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom) - 2;
  return Math.max(MIN_ZOOM, Math.min(w / photo.width, h / photo.height, MAX_FIT_ZOOM));
}

function applyZoom() {
  if (!photo) return;
  hideStill();
  els.wrap.style.width = `${photo.width * zoom}px`;
  els.wrap.style.height = `${photo.height * zoom}px`;
  els.zoomLevel.textContent = `${Math.round(zoom * 100)}%`;
  els.fit.setAttribute('aria-label', `Zoom to fit (now ${Math.round(zoom * 100)}%)`);
  updateCursorShape();
}

export function fitToStage() {
  fitMode = true;
  zoom = fitZoom();
  applyZoom();
}

/** The photo point (in photo pixels) under client point (x, y). */
export function imagePointAt(x, y) {
  const rect = els.wrap.getBoundingClientRect();
  return [(x - rect.left) / zoom, (y - rect.top) / zoom];
}

/** Zooms keeping the image point under (clientX, clientY) where it is on screen. */
export function zoomAt(next, clientX, clientY, imagePoint) {
  if (!photo) return;
  const point = imagePoint || imagePointAt(clientX, clientY);
  zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, next));
  fitMode = false;
  applyZoom();
  const after = els.wrap.getBoundingClientRect(); // forces layout with the new size
  els.stage.scrollLeft += after.left + point[0] * zoom - clientX;
  els.stage.scrollTop += after.top + point[1] * zoom - clientY;
}

/** Step zoom; a step that crosses 100 % stops there, so 1:1 (every photo pixel one screen
 * pixel, how fills should be judged) is always reachable with the buttons and keys. */
export function zoomBy(factor) {
  const r = els.stage.getBoundingClientRect();
  const next = zoom * factor;
  const crosses = (zoom < 1 && next > 1) || (zoom > 1 && next < 1);
  zoomAt(crosses ? 1 : next, r.left + r.width / 2, r.top + r.height / 2);
}

export function zoomActualSize() {
  const r = els.stage.getBoundingClientRect();
  zoomAt(1, r.left + r.width / 2, r.top + r.height / 2);
}

/** Moves the view with a drag of (dx, dy) client pixels. */
export function panBy(dx, dy) {
  els.stage.scrollLeft -= dx;
  els.stage.scrollTop -= dy;
}

export function onWheel(e) {
  // Ctrl+wheel (and trackpad pinch, which browsers report as Ctrl+wheel) zooms at the pointer.
  if (!photo || !(e.ctrlKey || e.metaKey)) return;
  e.preventDefault();
  zoomAt(zoom * Math.exp(-e.deltaY * 0.0025), e.clientX, e.clientY);
}

/** The stage changed size: refit, unless the person zoomed by hand. */
export function onStageResize() {
  if (fitMode) fitToStage();
  else updateCursorShape();
}
