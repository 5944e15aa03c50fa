/* A long action that keeps the editor busy (a fill, a comparison): the spinner says which
 * stage it is at and for how long it has run, and Cancel (or Escape) ends it at once. The
 * editor is free again the moment Cancel is pressed, whatever the action was doing (building
 * the upload, waiting for the server, decoding the answer); the action checks its job after
 * every step and drops what it was doing, so a late answer is never applied.
 */

import { els, setStatus } from './dom.js';
import * as history from './history.js';
import { render, setBusy } from './state.js';
import { ticker } from './ticker.js';

let current = null; // the running job

export const abortError = () => new DOMException('Cancelled', 'AbortError');
export const isAbort = (err) => Boolean(err) && err.name === 'AbortError';

/** Starts a job: busy at once (spinner, Cancel focused). ``cancelled`` is the status line
 * Cancel leaves; focus goes back to ``focusBefore`` when it ends. Returns the job:
 * ``signal`` (aborts on Cancel, for requests), ``stage(label)``, ``check()`` (throws an
 * AbortError once cancelled: call it after every await), ``seconds()`` and ``end()``. */
export function startJob({ cancelled, focusBefore }) {
  const controller = new AbortController();
  const clock = ticker((label, seconds) => {
    els.busyText.textContent = `${label}…`;
    els.busyTime.textContent = `${seconds} s`;
  });
  const job = {
    signal: controller.signal,
    seconds: clock.seconds,
    stage(label) {
      if (current === job) clock.stage(label);
    },
    check() {
      if (controller.signal.aborted) throw abortError();
    },
    end() {
      if (current !== job) return;
      current = null;
      clock.stop();
      setBusy(false);
      render();
      restoreFocus(focusBefore);
    },
    cancel() {
      if (current !== job) return;
      controller.abort();
      setStatus(cancelled);
      job.end();
    },
  };
  current = job;
  setBusy(true);
  return job;
}

/** Cancel and Escape: ends the running job, if any. */
export function cancelJob() {
  if (current) current.cancel();
}

/** After a job, focus returns where it was; if that control is now disabled (Fill, with the
 * mask cleared), it goes to the next useful step: Download. */
function restoreFocus(previous) {
  const usable = (el) => el && el !== document.body && el.isConnected && !el.disabled && !el.closest('[hidden]');
  const target = usable(previous) && previous !== els.cancel ? previous : history.lastFill() ? els.download : null;
  if (target) target.focus({ preventScroll: true });
  else if (document.activeElement === els.cancel) els.cancel.blur();
}
