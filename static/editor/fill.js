/* Fill: the current mask and photo go to the server (through api.js) as a job (job.js: the
 * spinner names the stage and the time, Cancel and Escape end it), and the result becomes
 * one undoable step of the history. A fill asked for while the photo still opens waits for
 * it. Compare (compare.js) runs its fills through the same fillWith and commitFill.
 */

import { fillImage } from './api.js';
import { liveStroke, maskBounds } from './canvas.js';
import { clearError, els, setStatus, showError } from './dom.js';
import { settleGrow } from './grow.js';
import * as history from './history.js';
import { withPatch } from './images.js';
import { abortError, isAbort, startJob } from './job.js';
import { modelTitle } from './models.js';
import { currentImage, state } from './state.js';

export async function fill() {
  if (state.busy || !state.base || liveStroke()) return;
  clearError();
  if (!history.hasMask()) {
    showError('Paint over the area to fill first.');
    return;
  }
  const grow = settleGrow();
  const model = els.model.value;
  // busy at once: exporting the mask of a big photo takes a moment too
  const job = startJob({ cancelled: 'Fill cancelled.', focusBefore: document.activeElement });
  try {
    await photoReady(job);
    const image = currentImage();
    const after = await fillWith(image, model, grow, job, (label) => job.stage(label));
    commitFill(image, after, model);
    setStatus(
      `Filled with ${modelTitle(model)} in ${job.seconds()} s. Paint to refine, undo to try another model, ` +
        'or download.',
    );
  } catch (err) {
    if (!isAbort(err)) showError(err.message);
  } finally {
    job.end();
  }
}

/** Waits, as the job's first stage, for a photo that is still opening (one that fails to
 * open ends the job quietly: opening says why). */
export async function photoReady(job) {
  if (!state.opening) return;
  job.stage('Opening the photo');
  const opened = await state.opening.ready;
  job.check();
  if (!opened) throw abortError();
}

/** One fill of the current mask on ``image`` with ``model``: the filled image (``image``
 * with the filled patch over it). Runs in ``job``; ``onStage(label)`` hears its stages. */
export async function fillWith(image, model, grow, job, onStage) {
  const bounds = maskBounds();
  if (!bounds) throw new Error('The mask is empty: paint over the area to fill first.');
  const patch = await fillImage(image, bounds, { model, grow, job, onStage, onStatus: setStatus });
  job.check();
  return withPatch(image, patch);
}

/** A fill becomes the next step of the history (undo brings the mask back) and is shown. */
export function commitFill(image, after, model) {
  history.push({ type: 'fill', before: image, after, model });
  state.comparing = false;
}
