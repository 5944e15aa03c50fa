/* Compare: fills the same mask with every model that suits it (models.js: a model trained
 * on the paper's central square is left out for a painted stroke), one request after
 * another, then shows the photo as it was and the results side by side around the hole at
 * 1:1 in the Compare dialog, the hole outlined and in the middle of every panel (the panels
 * scroll together). The one kept becomes a fill in the history like any other.
 */

import { liveStroke, maskBounds, maskHole } from './canvas.js';
import { clearError, els, setStatus, showError } from './dom.js';
import { commitFill, fillWith, photoReady } from './fill.js';
import { settleGrow } from './grow.js';
import * as history from './history.js';
import { growHole, holeShape, outline } from './holes.js';
import { regionCanvas } from './images.js';
import { isAbort, startJob } from './job.js';
import { modelTitle, suits } from './models.js';
import { currentImage, render, state } from './state.js';

const MARGIN = 48; // px of photo shown around the grown hole

export async function compareModels() {
  if (state.busy || !state.base || liveStroke()) return;
  clearError();
  if (!history.hasMask()) {
    showError('Paint over the area to fill first.');
    return;
  }
  const grow = settleGrow();
  const job = startJob({ cancelled: 'Comparison cancelled.', focusBefore: document.activeElement });
  let comparison = null;
  try {
    await photoReady(job);
    comparison = await runModels(grow, job);
  } catch (err) {
    if (!isAbort(err)) showError(err.message);
  } finally {
    job.end();
  }
  if (!comparison) return;
  const { results, leftOut } = comparison;
  const skipped = leftOut.map((m) => `${m.title} (meant for ${m.meantFor})`).join(', ');
  els.compareNote.textContent = skipped ? `Left out, as they do not suit this hole: ${skipped}.` : '';
  setStatus(
    `Compared ${results.length} models suited to this hole on the same mask. Keep one, or close to keep painting.` +
      (skipped ? ` Left out: ${skipped}.` : ''),
  );
  showComparison(comparison);
}

/** Fills the mask with each model that suits it; what the dialog shows. */
async function runModels(grow, job) {
  const bounds = maskBounds();
  if (!bounds) throw new Error('The mask is empty: paint over the area to fill first.');
  const [x0, y0, x1, y1] = bounds;
  const shape = holeShape(maskHole([x0, y0, x1 - x0, y1 - y0]), x1 - x0, y1 - y0);
  const models = [...els.model.options].map((o) => ({
    name: o.value,
    title: modelTitle(o.value),
    ...suits(o.value, shape),
  }));
  const suited = models.filter((m) => m.ok);
  const image = currentImage();
  const results = [];
  for (const [i, model] of suited.entries()) {
    const label = `${model.title} (${i + 1} of ${suited.length})`;
    job.stage(label);
    const started = performance.now();
    try {
      const after = await fillWith(image, model.name, grow, job, (stage) => job.stage(`${label}: ${stage}`));
      results.push({ ...model, after, seconds: (performance.now() - started) / 1000 });
    } catch (err) {
      if (isAbort(err)) throw err;
      results.push({ ...model, error: err.message });
    }
  }
  const { width, height } = image;
  const margin = MARGIN + grow;
  const left = Math.max(0, x0 - margin);
  const top = Math.max(0, y0 - margin);
  const region = [left, top, Math.min(width, x1 + margin) - left, Math.min(height, y1 + margin) - top];
  const hole = growHole(maskHole(region), region[2], region[3], grow);
  const centre = [(x0 + x1) / 2 - left, (y0 + y1) / 2 - top];
  return { image, results, leftOut: models.filter((m) => !m.ok), region, hole, centre };
}

/** A 1:1 panel: the region of ``picture`` with the hole's outline over it (a layer of its
 * own, so hiding the outline shows the pixels untouched). */
function panel(picture, region, lines) {
  const layers = document.createElement('div');
  layers.className = 'compare-layers';
  const [, , w, h] = region;
  layers.style.width = `${w}px`; // 1:1: one photo pixel, one CSS pixel
  layers.style.height = `${h}px`;
  const pixels = regionCanvas(picture, region);
  const drawn = document.createElement('canvas');
  drawn.width = w;
  drawn.height = h;
  drawn.getContext('2d').putImageData(lines, 0, 0);
  drawn.className = 'compare-outline';
  layers.append(pixels, drawn);
  return layers;
}

/** The outline of ``hole`` as pixels: light inside the edge, dark outside it. */
function outlinePixels(hole, w, h) {
  const edge = outline(hole, w, h);
  const lines = new ImageData(w, h);
  for (let i = 0; i < edge.length; i += 1) {
    if (edge[i] === 1) lines.data.set([255, 255, 255, 255], i * 4);
    else if (edge[i] === 2) lines.data.set([0, 0, 0, 255], i * 4);
  }
  return lines;
}

function showComparison({ image, results, region, hole, centre }) {
  const lines = outlinePixels(hole, region[2], region[3]);
  els.compareGrid.replaceChildren();
  const panes = [];
  const original = { title: 'Original', after: image, original: true };
  for (const result of [original, ...results]) {
    const figure = document.createElement('figure');
    figure.className = 'compare-item';
    if (result.original) figure.dataset.original = '';
    else figure.dataset.model = result.name;
    const caption = document.createElement('figcaption');
    caption.textContent = result.original
      ? 'Original, before this fill'
      : result.error
        ? `${result.title}: failed`
        : `${result.title} · ${result.seconds.toFixed(1)} s`;
    const pane = document.createElement('div');
    pane.className = 'compare-pane';
    if (result.error) {
      pane.textContent = result.error;
    } else {
      pane.append(panel(result.after, region, lines));
      panes.push(pane);
    }
    figure.append(caption, pane);
    if (!result.error && !result.original) figure.append(keepButton(image, result));
    els.compareGrid.append(figure);
  }
  syncScrolling(panes);
  if (typeof els.compareDialog.showModal === 'function') els.compareDialog.showModal();
  else els.compareDialog.setAttribute('open', '');
  // the hole in the middle of every panel (a big hole no longer opens on its top-left corner)
  for (const pane of panes) {
    pane.scrollLeft = centre[0] - pane.clientWidth / 2;
    pane.scrollTop = centre[1] - pane.clientHeight / 2;
  }
}

function keepButton(image, result) {
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
  return keep;
}

/** Scrolling one panel scrolls all to the same photo position. */
function syncScrolling(panes) {
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
}
