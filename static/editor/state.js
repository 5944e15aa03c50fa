/* The editor's UI state that several modules share (the opened photo, busy with a fill, the
 * before/after view, an undownloaded result) and render(), the one place that brings the
 * canvases and the controls in line with it and with the history. Modules change the state,
 * then call render() (canvases and controls) or updateControls() (controls only).
 */

import { hideBrushCursor } from './brush.js';
import * as canvas from './canvas.js';
import { els } from './dom.js';
import * as history from './history.js';

export const state = {
  base: null, // the image as opened: {bitmap, blob, width, height, name, notice}
  busy: false, // a fill or a comparison is running
  abort: null, // its AbortController (the Cancel button)
  comparing: false, // showing the image before the last fill
  unsaved: false, // a fill result exists that has not been downloaded
};

let objectUrls = []; // blob: URLs made for the download link, revoked when a photo is opened

/** The working image: the latest applied fill result, else the opened image. */
export function currentImage() {
  const fill = history.lastFill();
  return fill ? fill.after : state.base;
}

/** Brings both canvases and every control in line with the state. */
export function render() {
  if (state.base) {
    const fill = history.lastFill();
    canvas.showImage(state.comparing && fill ? fill.before : currentImage());
    canvas.redrawMask();
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
  els.maskOpen.disabled = busy || !loaded;
  els.model.disabled = busy;

  els.toggle.disabled = busy || !fill;
  els.toggle.setAttribute('aria-pressed', String(state.comparing && Boolean(fill)));
  els.wrap.classList.toggle('comparing', state.comparing && Boolean(fill));
  els.badge.hidden = !(state.comparing && fill);

  updateDownload(fill);
  els.wrap.classList.toggle('locked', busy);
  els.stage.setAttribute('aria-busy', String(busy));
}

/** Busy while a fill or comparison runs: the spinner with its Cancel button shows and takes
 * the focus, and a fresh AbortController is ready for Cancel. */
export function setBusy(busy) {
  state.busy = busy;
  state.abort = busy ? new AbortController() : null;
  els.spinner.hidden = !busy;
  if (busy) {
    hideBrushCursor();
    els.cancel.focus({ preventScroll: true });
  }
  updateControls();
}

// ---------------------------------------------------------------- the download link

function updateDownload(fill) {
  if (fill) {
    els.download.href = objectUrl(fill.after);
    els.download.download = `${stem(state.base.name)}-inpainted.png`;
    els.download.setAttribute('aria-disabled', 'false');
    els.download.removeAttribute('tabindex');
  } else {
    els.download.removeAttribute('href');
    els.download.removeAttribute('download');
    els.download.setAttribute('aria-disabled', 'true');
    els.download.tabIndex = -1;
  }
}

function objectUrl(img) {
  if (!img.url) {
    img.url = URL.createObjectURL(img.blob);
    objectUrls.push(img.url);
  }
  return img.url;
}

export function revokeObjectUrls() {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls = [];
}

/** A file name's stem, safe to build download and upload names from. */
export function stem(name) {
  const base = (name || 'image').replace(/\.[^./\\]+$/, '');
  return base.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'image';
}
