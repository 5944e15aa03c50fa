/* The brush: its tool (brush or eraser, the two toggle buttons), its size in photo pixels (the
 * Size slider) and the round cursor that shows both over the photo at the current zoom.
 */

import { els } from './dom.js';

let tool = 'brush'; // 'brush' | 'erase'
let size = Number(els.size.value);

export const currentTool = () => tool;
export const currentSize = () => size;

export function setTool(name) {
  tool = name;
  els.brushBtn.setAttribute('aria-pressed', String(tool === 'brush'));
  els.eraserBtn.setAttribute('aria-pressed', String(tool === 'erase'));
  updateCursorShape();
}

export function setBrushSize(px) {
  const min = Number(els.size.min);
  const max = Number(els.size.max);
  size = Math.round(Math.min(max, Math.max(min, px)));
  els.size.value = String(size);
  els.sizeValue.textContent = `${size} px`;
  updateCursorShape();
}

/** Brush sizes are in image pixels; pick a range and default that suit this photo. */
export function adaptBrushRange(width, height) {
  const short = Math.min(width, height);
  const max = Math.max(32, Math.round(short / 3));
  els.size.max = String(max);
  setBrushSize(Math.max(4, Math.round(short / 16)));
}

// ---------------------------------------------------------------- the cursor

/** Shows the cursor centred on client point (x, y). */
export function showCursorAt(x, y) {
  const d = displayedBrushDiameter();
  els.cursor.hidden = false;
  els.cursor.style.transform = `translate(${x - d / 2}px, ${y - d / 2}px)`;
  els.stage.classList.add('hide-cursor');
}

export function hideBrushCursor() {
  els.cursor.hidden = true;
  els.stage.classList.remove('hide-cursor');
}

function displayedBrushDiameter() {
  const rect = els.mask.getBoundingClientRect();
  const scale = els.mask.width ? rect.width / els.mask.width : 1;
  return Math.max(4, size * scale);
}

/** Sizes the cursor for the brush size and the zoom (call after either changes). */
export function updateCursorShape() {
  const d = displayedBrushDiameter();
  els.cursor.style.width = `${d}px`;
  els.cursor.style.height = `${d}px`;
  els.cursor.classList.toggle('erase', tool === 'erase');
}
