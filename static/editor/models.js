/* The model picker: the server's models (from the page config) described in the picker's
 * option titles and the info line under it, and the last choice remembered across visits.
 */

import { els, showError } from './dom.js';
import { config, safeStorage } from './settings.js';

const MODEL_STORAGE_KEY = 'inpaint.model';

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

function selectedModel() {
  return config.models.find((m) => m.name === els.model.value);
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
    const m = config.models.find((x) => x.name === option.value);
    if (m) option.title = describeModel(m);
  }
  els.modelInfo.textContent = describeModel(selectedModel());
  els.model.addEventListener('change', () => {
    els.modelInfo.textContent = describeModel(selectedModel());
    safeStorage('set', MODEL_STORAGE_KEY, els.model.value);
  });
}
