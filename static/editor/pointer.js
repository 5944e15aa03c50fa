/* Pointer input on the stage (mouse, pen and touch through Pointer Events): one pointer paints
 * a stroke, the middle button or Space + drag pans, two fingers pinch-zoom. The whole stage
 * takes strokes, so one can start in the margin beside the photo; the canvas clips them. It
 * also moves the brush cursor with the pointer and knows whether Space is held (keyboard.js
 * sets it) and whether the pointer is over the stage (keyboard.js reads it).
 */

import { currentSize, currentTool, hideBrushCursor, showCursorAt } from './brush.js';
import * as canvas from './canvas.js';
import { els } from './dom.js';
import { schedulePreview } from './grow.js';
import * as history from './history.js';
import { render, state, updateControls } from './state.js';
import { currentZoom, imagePointAt, panBy, zoomAt } from './view.js';

const PINCH_GRACE_MS = 250; // a second finger within this time turns a stroke into a pinch

const pointers = new Map(); // active touch/pen/mouse pointers, for pinch and pan
let gesture = null; // {kind: 'pinch'|'pan', ...}
let spaceHeld = false;
let pointerOverStage = false;

export const isSpaceHeld = () => spaceHeld;
export function setSpaceHeld(held) {
  spaceHeld = held;
}
export const isPointerOverStage = () => pointerOverStage;
export function setPointerOverStage(over) {
  pointerOverStage = over;
}

export function onPointerDown(e) {
  if (!state.base || state.busy) return;
  if (e.target.closest('button, .busy, .empty, .drop-overlay')) return; // controls on the stage

  if (e.pointerType === 'mouse' && e.button !== 0 && e.button !== 1) return;
  e.preventDefault();
  // Painting is a pointer activity: drop focus from the last clicked control so keys such as
  // Space (pan) are not swallowed by it, without drawing a focus ring on the canvas.
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  els.stage.setPointerCapture(e.pointerId);
  pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });

  if (state.comparing) {
    state.comparing = false; // painting edits the result, so show it
    render();
  }
  const stroke = canvas.liveStroke();
  if (e.button === 1 || spaceHeld) {
    startPan();
  } else if (pointers.size === 2 && e.pointerType === 'touch') {
    // A second finger soon after the first means the first began a pinch, not a stroke;
    // a stroke already under way is kept.
    if (stroke && performance.now() - stroke.started < PINCH_GRACE_MS) canvas.cancelStroke();
    else if (stroke) commitStroke();
    startPinch();
  } else if (pointers.size === 1) {
    canvas.startStroke(canvas.toImage(e), currentTool() === 'erase' ? 'erase' : 'paint', currentSize(), e.pointerId);
  }
}

export function onPointerMove(e) {
  moveBrushCursor(e);
  if (!pointers.has(e.pointerId)) return;
  pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
  const stroke = canvas.liveStroke();
  if (gesture) {
    updateGesture(e);
  } else if (stroke && stroke.pointerId === e.pointerId) {
    // Coalesced events keep fast strokes smooth where the browser batches moves.
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) canvas.extendStroke(canvas.toImage(ev));
  }
}

/** pointerup, pointercancel and lostpointercapture (e.g. the window lost focus mid-stroke). */
export function onPointerUp(e) {
  if (!pointers.has(e.pointerId)) return;
  pointers.delete(e.pointerId);
  const stroke = canvas.liveStroke();
  if (stroke && stroke.pointerId === e.pointerId) {
    if (e.type === 'pointercancel') canvas.cancelStroke();
    else commitStroke();
  }
  if (gesture && (gesture.kind === 'pan' || pointers.size < 2)) {
    gesture = null;
    els.stage.classList.remove('panning');
  }
}

function commitStroke() {
  history.push(canvas.endStroke());
  updateControls();
  schedulePreview();
}

function startPan() {
  const [p] = pointers.values();
  gesture = { kind: 'pan', x: p.x, y: p.y };
  els.stage.classList.add('panning');
}

function startPinch() {
  const [a, b] = pointers.values();
  gesture = {
    kind: 'pinch',
    distance: Math.hypot(a.x - b.x, a.y - b.y) || 1,
    zoom: currentZoom(),
    // the image point under the fingers' midpoint stays under it while pinching
    point: imagePointAt((a.x + b.x) / 2, (a.y + b.y) / 2),
  };
}

function updateGesture(e) {
  const g = gesture;
  if (g.kind === 'pan') {
    panBy(e.clientX - g.x, e.clientY - g.y);
    g.x = e.clientX;
    g.y = e.clientY;
    return;
  }
  const [a, b] = pointers.values();
  const distance = Math.hypot(a.x - b.x, a.y - b.y);
  zoomAt((g.zoom * distance) / g.distance, (a.x + b.x) / 2, (a.y + b.y) / 2, g.point);
}

function moveBrushCursor(e) {
  if (e.pointerType === 'touch' || !state.base) hideBrushCursor();
  else showCursorAt(e.clientX, e.clientY);
}
