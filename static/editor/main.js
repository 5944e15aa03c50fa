/* Inpainting editor: open a photo, paint a mask, send both to POST /inpaint/regions,
 * paste the filled pixels it answers, iterate.
 *
 * The entry point, loaded by the template as the page's one <script type="module">; the other
 * modules are its imports. This file wires the page's controls, the stage's pointer events,
 * the keys, drag and drop, paste and the window's events to those modules, and exposes a
 * read-only window.editorState for the browser tests and the docs screenshots.
 *
 *   dom.js       the page's elements and its status and error lines
 *   settings.js  the server's config (models, limits) and remembered choices
 *   images.js    images as a photo plus filled patches: decode, draw, encode, resize
 *   jpeg.js      JPEG headers and metadata: read, make upright, splice into a download
 *   png.js       a photo's colour profile and Exif put into a PNG download
 *   probe.js     a photo file's size (and thumbnail) before it is decoded
 *   holes.js     holes as arrays: grow (as the server does), outline, shape
 *   history.js   the operations (strokes, clears, mask files, fills) and the undo cursor
 *   canvas.js    the photo and mask canvases, the live stroke, mask export
 *   brush.js     tool, size and the brush cursor
 *   grow.js      the Grow field and the preview of the grown ring
 *   view.js      zoom, pan, fit and 1:1
 *   pointer.js   pointer events on the stage: strokes, pan, pinch
 *   state.js     the shared UI state and render()
 *   ticker.js    a label with the time since it began
 *   job.js       a fill or comparison: busy, stages with time, Cancel and Escape
 *   upload.js    what a fill sends: the photo's file or a crop around the mask, the painted mask
 *   api.js       the HTTP client for POST /inpaint/regions (stages, retries, errors, tiles to a patch)
 *   fill.js      Fill: the job, the history step
 *   compare.js   Compare: the models that suit the hole, side by side with the original
 *   download.js  Download: encoded now, in the photo's format, with its metadata
 *   open.js      opening photos and mask files (picker, drop, paste)
 *   commands.js  undo, redo, clear, before/after, shortcut list
 *   keyboard.js  keyboard shortcuts
 *   models.js    the model picker, model titles, which models suit a hole
 */

import * as brush from './brush.js';
import * as canvas from './canvas.js';
import { clearMask, openShortcuts, redo, toggleCompare, undo } from './commands.js';
import { compareModels } from './compare.js';
import { clearError, els } from './dom.js';
import { download } from './download.js';
import { fill } from './fill.js';
import { schedulePreview, settleGrow } from './grow.js';
import * as history from './history.js';
import { onKeyDown, onKeyUp } from './keyboard.js';
import { cancelJob } from './job.js';
import { initModels } from './models.js';
import { chooseFile, loadMask, onDragEnter, onDragLeave, onDragOver, onDrop, onPaste, openFile } from './open.js';
import { onPointerDown, onPointerMove, onPointerUp, setPointerOverStage, setSpaceHeld } from './pointer.js';
import { isUnsaved, state, updateControls } from './state.js';
import * as view from './view.js';

function bind() {
  els.fileInput.addEventListener('change', () => openFile(els.fileInput.files[0]));
  els.emptyOpenBtn.addEventListener('click', chooseFile);
  // The Open label is keyboard-focusable; make Enter/Space open the picker like a button.
  els.openBtn.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      chooseFile();
    }
  });
  els.openBtn.addEventListener('click', (e) => {
    if (state.busy) e.preventDefault();
    else els.fileInput.value = '';
  });

  els.brushBtn.addEventListener('click', () => brush.setTool('brush'));
  els.eraserBtn.addEventListener('click', () => brush.setTool('erase'));
  els.size.addEventListener('input', () => brush.setBrushSize(Number(els.size.value)));
  els.undo.addEventListener('click', undo);
  els.redo.addEventListener('click', redo);
  els.clear.addEventListener('click', clearMask);
  els.zoomIn.addEventListener('click', () => view.zoomBy(1.25));
  els.zoomOut.addEventListener('click', () => view.zoomBy(0.8));
  els.fit.addEventListener('click', view.fitToStage);
  els.fill.addEventListener('click', fill);
  els.compare.addEventListener('click', compareModels);
  els.compareClose.addEventListener('click', () => els.compareDialog.close());
  els.compareOutline.addEventListener('change', () =>
    els.compareGrid.classList.toggle('hide-outline', !els.compareOutline.checked),
  );
  els.cancel.addEventListener('click', cancelJob);
  els.toggle.addEventListener('click', () => toggleCompare());
  els.download.addEventListener('click', download);
  els.grow.addEventListener('input', schedulePreview);
  els.grow.addEventListener('change', () => {
    settleGrow();
    schedulePreview();
  });
  els.errorClose.addEventListener('click', clearError);
  els.shortcutsBtn.addEventListener('click', openShortcuts);

  // The whole stage takes strokes, so one can start in the margin beside the photo (objects
  // at the border); the canvas clips them to the photo.
  els.stage.addEventListener('pointerdown', onPointerDown);
  els.stage.addEventListener('pointermove', onPointerMove);
  els.stage.addEventListener('pointerup', onPointerUp);
  els.stage.addEventListener('pointercancel', onPointerUp);
  els.stage.addEventListener('lostpointercapture', onPointerUp); // e.g. the window lost focus mid-stroke
  els.stage.addEventListener('pointerleave', brush.hideBrushCursor);
  els.mask.addEventListener('contextmenu', (e) => e.preventDefault());
  els.stage.addEventListener('wheel', view.onWheel, { passive: false });

  els.stage.addEventListener('pointerenter', () => setPointerOverStage(true));
  els.stage.addEventListener('pointerleave', () => setPointerOverStage(false));
  document.addEventListener('keydown', onKeyDown);
  document.addEventListener('keyup', onKeyUp);
  window.addEventListener('blur', () => setSpaceHeld(false));
  document.addEventListener('paste', onPaste);
  window.addEventListener('dragenter', onDragEnter);
  window.addEventListener('dragover', onDragOver);
  window.addEventListener('dragleave', onDragLeave);
  window.addEventListener('drop', onDrop);
  window.addEventListener('beforeunload', (e) => {
    if (!isUnsaved()) return; // only a fill result that was never downloaded is worth a prompt
    e.preventDefault();
    e.returnValue = '';
  });

  new ResizeObserver(view.onStageResize).observe(els.stage);
}

/** Read-only snapshot for tests and debugging; behaviour is checked through the DOM. */
Object.defineProperty(window, 'editorState', {
  get: () =>
    Object.freeze({
      // 0 until the photo is decoded (``opening`` meanwhile): then the canvases hold it
      width: state.base && state.base.bitmap ? state.base.width : 0,
      height: state.base && state.base.bitmap ? state.base.height : 0,
      opening: Boolean(state.opening),
      zoom: view.currentZoom(),
      tool: brush.currentTool(),
      brushSize: brush.currentSize(),
      busy: state.busy,
      canUndo: history.canUndo(),
      canRedo: history.canRedo(),
      fills: history.fillCount(),
      unsaved: isUnsaved(),
    }),
});

initModels();
canvas.setMaskColour(canvas.savedMaskColour());
els.maskColour.addEventListener('change', () => canvas.setMaskColour(els.maskColour.value));
els.maskOpen.addEventListener('click', () => {
  els.maskInput.value = ''; // so loading the same file again still fires "change"
  els.maskInput.click();
});
els.maskInput.addEventListener('change', () => loadMask(els.maskInput.files[0]));
bind();
brush.setBrushSize(brush.currentSize());
updateControls();
