/* The server's models (the page config holds what GET /api/models returns): the picker with
 * what each one is good at (a tooltip holds the whole description, the info line as much as
 * fits), the last choice remembered across visits, their human titles for messages, and
 * which of them suit a painted hole (Compare runs only those).
 */

import { els, showError } from './dom.js';
import { config, safeStorage } from './settings.js';

const MODEL_STORAGE_KEY = 'inpaint.model';

// Holes a generator was trained on (its ``mask_type``) that make it unsuited to others: the
// paper's central square (``center``) and rectangles (``block``) never showed it the shapes
// people paint. Generators trained on painted shapes (mixed, region, freeform, strokes,
// irregular) and the classical fillers (no ``mask_type``) take any hole.
const MEANT_FOR = {
  center: { shapes: ['square'], hole: 'a square hole' },
  block: { shapes: ['square', 'box'], hole: 'rectangular holes' },
};

const modelNamed = (name) => config.models.find((m) => m.name === name);

/** A model's human title (its name when the server gave none; the default's when empty). */
export function modelTitle(name) {
  const model = modelNamed(name) || (!name && config.models.find((m) => m.default));
  return model ? model.title || model.name : name;
}

/** Whether the model called ``name`` suits a hole of ``shape`` (holes.js: 'square', 'box' or
 * 'free'); when it does not, what it is meant for instead, as words. */
export function suits(name, shape) {
  const model = modelNamed(name);
  const meant = model && MEANT_FOR[model.mask_type];
  return !meant || meant.shapes.includes(shape) ? { ok: true } : { ok: false, meantFor: meant.hole };
}

/** What the model is good at and how it measured (hole PSNR per set and hole type, beside
 * the better classical filler): the whole line for the tooltip. */
function describeModel(model) {
  if (!model) return '';
  const parts = [model.title || model.name];
  if (model.good_at) parts.push(`good at ${model.good_at}`);
  const shown = (model.headline || []).slice(0, 3).map((h) => {
    const versus = h.best_classical_psnr == null ? '' : ` (classical ${h.best_classical_psnr.toFixed(1)})`;
    return `${h.mask} on ${h.set}: ${h.psnr.toFixed(1)} dB${versus}`;
  });
  if (shown.length) parts.push(`hole PSNR ${shown.join(', ')}`);
  return parts.join(' · ');
}

/** The info line under the picker says what the model is good at (the picker shows its
 * title; two lines hold it whole); its tooltip adds the measured numbers. */
function showInfo() {
  const model = modelNamed(els.model.value);
  const full = describeModel(model);
  els.modelInfo.textContent = model && model.good_at ? `Good at ${model.good_at}` : full;
  els.modelInfo.title = full;
}

export function initModels() {
  // Remember the last choice across visits, if that model is still served.
  const saved = safeStorage('get', MODEL_STORAGE_KEY);
  if (saved && [...els.model.options].some((o) => o.value === saved)) els.model.value = saved;
  if (!els.model.options.length) {
    els.model.disabled = true;
    showError('The server lists no models, so nothing can be filled. Check the server configuration.');
  }
  for (const option of els.model.options) {
    const m = modelNamed(option.value);
    if (m) option.title = describeModel(m);
  }
  showInfo();
  els.model.addEventListener('change', () => {
    showInfo();
    safeStorage('set', MODEL_STORAGE_KEY, els.model.value);
  });
}
