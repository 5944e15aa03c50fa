/* The editor's UI state that several modules share (the opened photo, a photo still opening,
 * busy with a fill, the before/after view, which results were downloaded) and render(), the
 * one place that brings the canvases and the controls in line with it and with the history.
 * Modules change the state, then call render() (canvases and controls) or updateControls()
 * (controls only).
 */

import { hideBrushCursor } from './brush.js';
import * as canvas from './canvas.js';
import { els } from './dom.js';
import { schedulePreview } from './grow.js';
import * as history from './history.js';
import { hideStill, showStill } from './still.js';

export const state = {
  // the photo as opened: an image (images.js) plus what its file said: {name, type, file (the
  // File, null once resized), exif, icc, notice}; while it decodes, its bitmap is null and
  // ``preview`` may hold the file's thumbnail ({bitmap, orientation})
  base: null,
  opening: null, // while a photo decodes: {name, ready (a promise of its base), laidOut}
  busy: false, // a fill or a comparison is running (job.js)
  comparing: false, // showing the image before the last fill
  downloaded: new WeakSet(), // fill operations whose result was downloaded
};

/** The working image: the latest applied fill result, else the opened image. */
export function currentImage() {
  const fill = history.lastFill();
  return fill ? fill.after : state.base;
}

/** Whether the result on show came from a fill and was never downloaded (what closing the
 * tab or opening another photo would lose). Undoing every fill leaves nothing to lose. */
export function isUnsaved() {
  const fill = history.lastFill();
  return Boolean(fill) && !state.downloaded.has(fill);
}

/** Brings both canvases and every control in line with the state. */
export function render() {
  if (state.base) {
    const fill = history.lastFill();
    canvas.showImage(state.comparing && fill ? fill.before : currentImage());
    canvas.redrawMask();
    schedulePreview();
  }
  updateControls();
}

export function updateControls() {
  const loaded = Boolean(state.base);
  const busy = state.busy;
  const fill = history.lastFill();
  const hasMask = history.hasMask();
  els.undo.disabled = busy || !history.canUndo();
  els.redo.disabled = busy || !history.canRedo();
  els.clear.disabled = busy || !hasMask;
  els.fill.disabled = busy || !loaded || !hasMask;
  els.compare.disabled = busy || !loaded || !hasMask || els.model.options.length < 2;
  for (const b of [els.zoomIn, els.zoomOut, els.fit]) b.disabled = !loaded;
  els.maskOpen.disabled = busy || !loaded || Boolean(state.opening);
  els.model.disabled = busy;

  els.toggle.disabled = busy || !fill;
  els.toggle.setAttribute('aria-pressed', String(state.comparing && Boolean(fill)));
  els.wrap.classList.toggle('comparing', state.comparing && Boolean(fill));
  els.badge.hidden = !(state.comparing && fill);
  els.openingBadge.hidden = !state.opening || !state.opening.laidOut;

  els.download.disabled = busy || !fill;
  // the format choice matters only for a photo that did not come as PNG
  els.downloadFormat.hidden = !loaded || state.base.type === 'image/png';
  els.wrap.classList.toggle('locked', busy);
  els.stage.setAttribute('aria-busy', String(busy));
}

/** Busy while a fill or comparison runs (job.js starts and ends it): the spinner with its
 * Cancel button shows and takes the focus, and a still stands in for the canvases. */
export function setBusy(busy) {
  state.busy = busy;
  els.spinner.hidden = !busy;
  if (busy) {
    showStill();
    hideBrushCursor();
    els.cancel.focus({ preventScroll: true });
  } else {
    hideStill();
  }
  updateControls();
}
