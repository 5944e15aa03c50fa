/* The page's elements, looked up once by id, and its two message lines (status and error).
 *
 * Every id the template defines for the editor is named here, so the script's contract with
 * the page sits in one place. Module scripts run after the document is parsed, so every
 * element exists when this module is evaluated.
 */

const $ = (id) => document.getElementById(id);

export const els = {
  stage: $('stage'),
  wrap: $('canvas-wrap'),
  image: $('image-canvas'),
  mask: $('canvas'),
  growPreview: $('grow-canvas'),
  dropzone: $('dropzone'),
  emptyTitle: $('empty-title'),
  dropOverlay: $('drop-overlay'),
  cursor: $('brush-cursor'),
  badge: $('before-badge'),
  openingBadge: $('opening-badge'),
  fileInput: $('file-input'),
  openBtn: $('open-btn'),
  emptyOpenBtn: $('empty-open-btn'),
  brushBtn: $('brush-btn'),
  eraserBtn: $('eraser-btn'),
  size: $('brush-size'),
  maskColour: $('mask-colour'),
  maskOpen: $('mask-open-btn'),
  maskInput: $('mask-input'),
  grow: $('grow'),
  compare: $('compare-btn'),
  compareDialog: $('compare-dialog'),
  compareGrid: $('compare-grid'),
  compareClose: $('compare-close'),
  compareNote: $('compare-note'),
  compareOutline: $('compare-outline'),
  sizeValue: $('brush-size-value'),
  undo: $('undo-btn'),
  redo: $('redo-btn'),
  clear: $('clear-btn'),
  zoomIn: $('zoom-in-btn'),
  zoomOut: $('zoom-out-btn'),
  fit: $('fit-btn'),
  zoomLevel: $('zoom-level'),
  model: $('model-select'),
  modelInfo: $('model-info'),
  fill: $('fill-btn'),
  toggle: $('result-toggle'),
  download: $('download-btn'),
  downloadFormat: $('download-format'),
  spinner: $('spinner'),
  busyText: $('busy-text'),
  busyTime: $('busy-time'),
  cancel: $('cancel-btn'),
  error: $('error'),
  errorText: $('error-text'),
  errorClose: $('error-close'),
  status: $('status'),
  shortcutsBtn: $('shortcuts-btn'),
  shortcuts: $('shortcuts'),
};

export function showError(message) {
  els.errorText.textContent = message;
  els.error.hidden = false;
}

export function clearError() {
  els.error.hidden = true;
  els.errorText.textContent = '';
}

export function setStatus(message) {
  els.status.textContent = message;
}

/** Whether keys typed (or pasted) at ``el`` belong to a text field rather than to the editor. */
export function isTypingTarget(el) {
  if (!el) return false;
  if (el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable) return true;
  return el.tagName === 'INPUT' && el.type !== 'range' && el.type !== 'file';
}
