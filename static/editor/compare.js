/* Compare: fills the same mask with every model, one request after another, then shows the
 * results side by side around the mask at 1:1 in the Compare dialog (its panels scroll
 * together); the one kept becomes a fill in the history like any other.
 */

import { liveStroke, maskBounds } from './canvas.js';
import { clearError, els, setStatus, showError } from './dom.js';
import { commitFill, fillWith, restoreFocus } from './fill.js';
import * as history from './history.js';
import { currentImage, render, setBusy, state } from './state.js';

export async function compareModels() {
  if (state.busy || !state.base || liveStroke()) return;
  clearError();
  const bounds = maskBounds();
  if (!history.hasMask() || !bounds) {
    showError('Paint over the area to fill first.');
    return;
  }
  const image = currentImage();
  const models = [...els.model.options].map((o) => ({ name: o.value, title: o.textContent }));
  const focusBefore = document.activeElement;
  setBusy(true);
  const results = [];
  try {
    for (const [i, model] of models.entries()) {
      setStatus(`Filling with ${model.title} (${i + 1} of ${models.length})…`);
      const started = performance.now();
      try {
        const after = await fillWith(image, model.name);
        results.push({ ...model, after, seconds: (performance.now() - started) / 1000 });
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        results.push({ ...model, error: err.message });
      }
    }
  } catch (err) {
    setStatus('Comparison cancelled.');
    return;
  } finally {
    setBusy(false);
    render();
    restoreFocus(focusBefore);
  }
  setStatus(`Compared ${models.length} models on the same mask. Keep one, or close to keep painting.`);
  showComparison(image, results, bounds);
}

function showComparison(image, results, [x0, y0, x1, y1]) {
  const margin = 48;
  const left = Math.max(0, x0 - margin);
  const top = Math.max(0, y0 - margin);
  const w = Math.min(image.width, x1 + margin) - left;
  const h = Math.min(image.height, y1 + margin) - top;
  els.compareGrid.replaceChildren();
  const panes = [];
  for (const result of results) {
    const figure = document.createElement('figure');
    figure.className = 'compare-item';
    figure.dataset.model = result.name;
    const caption = document.createElement('figcaption');
    caption.textContent = result.error
      ? `${result.title}: failed`
      : `${result.title} · ${result.seconds.toFixed(1)} s`;
    const pane = document.createElement('div');
    pane.className = 'compare-pane';
    if (result.error) {
      pane.textContent = result.error;
    } else {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      canvas.style.width = `${w}px`; // 1:1: one photo pixel, one CSS pixel
      canvas.getContext('2d').drawImage(result.after.bitmap, left, top, w, h, 0, 0, w, h);
      pane.append(canvas);
      panes.push(pane);
    }
    figure.append(caption, pane);
    if (!result.error) {
      const keep = document.createElement('button');
      keep.type = 'button';
      keep.className = 'btn primary';
      keep.textContent = 'Keep this';
      keep.addEventListener('click', () => {
        commitFill(image, result.after, result.name);
        els.compareDialog.close();
        render();
        setStatus(`Kept the fill by ${result.title}. Paint again to refine, or download.`);
      });
      figure.append(keep);
    }
    els.compareGrid.append(figure);
  }
  // synced panning: scrolling one panel scrolls all to the same photo position
  let syncing = false;
  for (const pane of panes) {
    pane.addEventListener('scroll', () => {
      if (syncing) return;
      syncing = true;
      for (const other of panes) {
        if (other !== pane) {
          other.scrollLeft = pane.scrollLeft;
          other.scrollTop = pane.scrollTop;
        }
      }
      syncing = false;
    });
  }
  if (typeof els.compareDialog.showModal === 'function') els.compareDialog.showModal();
  else els.compareDialog.setAttribute('open', '');
}
