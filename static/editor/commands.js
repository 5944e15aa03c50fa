/* The editor's small commands, shared by the buttons (main.js) and the keys (keyboard.js):
 * undo, redo, clear mask, before/after and the shortcut list. Each one checks that
 * it applies now (not while busy or mid-stroke) and renders what it changed.
 */

import { liveStroke } from './canvas.js';
import { els } from './dom.js';
import * as history from './history.js';
import { render, state } from './state.js';

export function undo() {
  if (state.busy || liveStroke() || !history.undo()) return;
  afterHistoryMove();
}

export function redo() {
  if (state.busy || liveStroke() || !history.redo()) return;
  afterHistoryMove();
}

function afterHistoryMove() {
  if (!history.lastFill()) state.comparing = false;
  render();
}

export function clearMask() {
  if (state.busy || !history.hasMask()) return;
  history.push({ type: 'clear' });
  render();
}

/** Shows the image before the last fill (``force`` true), after it (false), or flips. */
export function toggleCompare(force) {
  if (!history.lastFill() || state.busy) return;
  state.comparing = typeof force === 'boolean' ? force : !state.comparing;
  render();
}

export function openShortcuts() {
  if (typeof els.shortcuts.showModal === 'function') els.shortcuts.showModal();
  else els.shortcuts.setAttribute('open', '');
}
