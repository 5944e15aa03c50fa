/* Fill: the current mask and photo go to the server (through api.js) while the editor is
 * busy (Cancel aborts), and the result becomes one undoable step of the history. Compare
 * (compare.js) runs its fills through the same fillWith and commitFill.
 */

import { fillImage } from './api.js';
import { liveStroke } from './canvas.js';
import { clearError, els, setStatus, showError } from './dom.js';
import * as history from './history.js';
import { currentImage, render, setBusy, state, stem } from './state.js';

/** The Grow field, clamped to what the server accepts (0-64 px). */
function growPixels() {
  const value = Math.round(Number(els.grow.value));
  return Number.isFinite(value) ? Math.min(64, Math.max(0, value)) : 0;
}

export async function fill() {
  if (state.busy || !state.base || liveStroke()) return;
  clearError();
  if (!history.hasMask()) {
    showError('Paint over the area to fill first.');
    return;
  }
  const image = currentImage();
  const model = els.model.value;
  const focusBefore = document.activeElement;
  setBusy(true); // already here: exporting the mask of a big photo takes a moment too
  const started = performance.now();
  try {
    commitFill(image, await fillWith(image, model), model);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    setStatus(
      `Filled with ${model || 'the default model'} in ${seconds} s. Paint again to refine, ` +
        'undo to try another model on the same mask, or download.',
    );
  } catch (err) {
    if (err.name === 'AbortError') setStatus('Fill cancelled.');
    else showError(err.message);
  } finally {
    setBusy(false);
    render();
    restoreFocus(focusBefore);
  }
}

/** One fill of the current mask on ``image`` with ``model``: the whole filled photo. Call
 * while busy (it is cancelled with the busy state's AbortController). */
export function fillWith(image, model) {
  return fillImage(image, {
    model,
    name: uploadName(image),
    grow: growPixels,
    signal: state.abort.signal,
    onStatus: setStatus,
  });
}

/** A fill becomes the next step of the history (undo brings the mask back) and is shown. */
export function commitFill(image, after, model) {
  history.push({ type: 'fill', before: image, after, model });
  state.comparing = false;
  state.unsaved = true;
}

/** After a fill, focus returns where it was; if that control is now disabled (Fill, with the
 * mask cleared), it goes to the next useful step: Download. */
export function restoreFocus(previous) {
  const usable = (el) => el && el !== document.body && el.isConnected && !el.disabled && !el.closest('[hidden]');
  const target = usable(previous) && previous !== els.cancel ? previous : history.lastFill() ? els.download : null;
  if (target) target.focus({ preventScroll: true });
  else if (document.activeElement === els.cancel) els.cancel.blur();
}

function uploadName(image) {
  if (image !== state.base) return `${stem(state.base.name)}-inpainted.png`;
  const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }[image.blob.type] || 'png';
  return `${stem(image.name)}.${ext}`;
}
