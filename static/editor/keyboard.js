/* Keyboard shortcuts (listed in the template's #shortcuts dialog): Ctrl/⌘ combinations work
 * everywhere, single keys only outside text fields, and none while a dialog is open. Escape
 * cancels a running fill or comparison. Space held over the photo turns drags into panning
 * (see pointer.js).
 */

import * as brush from './brush.js';
import { clearMask, openShortcuts, redo, toggleCompare, undo } from './commands.js';
import { els, isTypingTarget } from './dom.js';
import { download } from './download.js';
import { fill } from './fill.js';
import { cancelJob } from './job.js';
import { chooseFile } from './open.js';
import { isPointerOverStage, isSpaceHeld, setSpaceHeld } from './pointer.js';
import { state } from './state.js';
import { fitToStage, zoomActualSize, zoomBy } from './view.js';

export function onKeyDown(e) {
  if (e.key === 'Escape' && state.busy) {
    e.preventDefault();
    cancelJob();
    return;
  }
  if (els.shortcuts.open || els.compareDialog.open) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.ctrlKey || e.metaKey) {
    const actions = {
      z: () => (e.shiftKey ? redo() : undo()),
      y: redo,
      Enter: fill,
      o: chooseFile,
      s: download,
    };
    if (actions[key] && !e.altKey) {
      e.preventDefault();
      actions[key]();
    }
    return;
  }
  if (e.altKey || isTypingTarget(e.target)) return;
  // Space pans when nothing has focus, and whenever the pointer is over the photo: right
  // after Fill the focus sits on Download, and "fill, zoom, pan to inspect" must not turn
  // into a stroke (or a click on the focused button).
  if (key === ' ' && (e.target === document.body || isPointerOverStage())) {
    e.preventDefault();
    setSpaceHeld(true);
    return;
  }
  const actions = {
    b: () => brush.setTool('brush'),
    e: () => brush.setTool('erase'),
    '[': () => brush.setBrushSize(brush.currentSize() * 0.85 - 1),
    ']': () => brush.setBrushSize(brush.currentSize() * 1.15 + 1),
    '+': () => zoomBy(1.25),
    '=': () => zoomBy(1.25),
    '-': () => zoomBy(0.8),
    0: fitToStage,
    1: zoomActualSize,
    c: () => toggleCompare(),
    Delete: clearMask,
    Backspace: clearMask,
    '?': openShortcuts,
  };
  if (actions[key]) {
    e.preventDefault();
    actions[key]();
  }
}

export function onKeyUp(e) {
  if (e.key !== ' ') return;
  // a focused button activates on Space's keyup: not when the Space was a pan
  if (isSpaceHeld()) e.preventDefault();
  setSpaceHeld(false);
}
