/* The operation history: every edit (stroke, clear, loaded mask, fill) in order, with a
 * cursor for how many are applied. Plain data, no DOM.
 *
 * Undo and redo only move the cursor; the mask is whatever the operations since the last
 * applied fill draw (canvas.js replays them), so no per-step bitmap snapshots are kept and
 * memory stays cheap even for large photos. Undoing a fill brings back the image before it
 * and the mask that produced it.
 */

let operations = []; // {type: 'stroke'|'clear'|'maskImage'|'fill', ...}
let cursor = 0; // how many operations are applied

/** A new photo starts an empty history. */
export function reset() {
  operations = [];
  cursor = 0;
}

export function push(op) {
  // A new edit after undo drops the redo branch.
  operations.length = cursor;
  operations.push(op);
  cursor = operations.length;
}

/** Steps back one operation; false when there is nothing to undo. */
export function undo() {
  if (cursor === 0) return false;
  cursor -= 1;
  return true;
}

/** Steps forward one operation; false when there is nothing to redo. */
export function redo() {
  if (cursor === operations.length) return false;
  cursor += 1;
  return true;
}

export const canUndo = () => cursor > 0;
export const canRedo = () => cursor < operations.length;

function lastFillIndex() {
  for (let i = cursor - 1; i >= 0; i -= 1) {
    if (operations[i].type === 'fill') return i;
  }
  return -1;
}

/** The latest applied fill ({before, after, model}), or null. */
export function lastFill() {
  const i = lastFillIndex();
  return i >= 0 ? operations[i] : null;
}

/** How many fills are applied. */
export function fillCount() {
  return operations.slice(0, cursor).filter((op) => op.type === 'fill').length;
}

/** Operations that make up the current mask (everything since the last fill). */
export function maskOperations() {
  return operations.slice(lastFillIndex() + 1, cursor);
}

/** Whether some paint stroke survives since the last clear (erasing it all still counts; the
 * export step catches a mask that ends up empty). */
export function hasMask() {
  let painted = false;
  for (const op of maskOperations()) {
    if (op.type === 'clear') painted = false;
    else if ((op.type === 'stroke' && op.mode === 'paint') || op.type === 'maskImage') painted = true;
  }
  return painted;
}
