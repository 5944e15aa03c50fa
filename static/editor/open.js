/* Getting images in: the file picker, drag and drop, paste, and mask files.
 *
 * A photo is checked against the limits and opened at its full resolution (fills send the
 * server what it can take: the file, or a crop around the mask). Opening says what it is
 * doing ("Opening IMG_0042.jpg… 2.1 s"): a 48 MP JPEG takes seconds to decode. When the
 * file's header gives its size (JPEG, PNG), the photo is laid out at once, on its EXIF
 * thumbnail when it has one, so strokes painted meanwhile are kept, and a fill asked for
 * waits for the photo. A mask file is added to the painted mask as one undoable step.
 */

import { adaptBrushRange } from './brush.js';
import * as canvas from './canvas.js';
import { clearError, els, isTypingTarget, setStatus, showError } from './dom.js';
import { offerFormats } from './download.js';
import * as history from './history.js';
import { decodeImage, resizeBitmap } from './images.js';
import { probe } from './probe.js';
import { config, formatMiB, formatMP, maxUploadBytes } from './settings.js';
import { isUnsaved, render, state, updateControls } from './state.js';
import { ticker } from './ticker.js';
import { showPhoto } from './view.js';

// What a canvas holds in Chromium (area and side); a photo beyond it is scaled down to fit.
const MAX_CANVAS_PIXELS = 16384 * 16384;
const MAX_CANVAS_SIDE = 32767;

const EMPTY_TITLE = els.emptyTitle.textContent; // the empty stage's invitation, from the template

let opened = 0; // counts openings: a photo opened after this one makes its decode moot
let clock = null; // the status line's "Opening …" ticker of the latest opening

const fitsCanvas = (w, h) => w * h <= MAX_CANVAS_PIXELS && Math.max(w, h) <= MAX_CANVAS_SIDE;

export async function openFile(file) {
  if (!file || state.busy) return;
  // the same care as closing the tab: a result that was never downloaded is not dropped silently
  if (isUnsaved() && !window.confirm('The filled photo has not been downloaded. Open another photo and discard it?')) {
    els.fileInput.value = ''; // so picking that file again later still fires "change"
    return;
  }
  clearError();
  const name = file.name || 'pasted-image.png';
  if (file.type && !file.type.startsWith('image/')) {
    showError(`"${name}" is not an image. Choose a PNG, JPEG or WebP photo.`);
    return;
  }
  if (!file.size) {
    showError(`"${name}" is empty (0 bytes): nothing to open. Choose a PNG, JPEG or WebP photo.`);
    return;
  }
  if (file.size > maxUploadBytes()) {
    showError(`"${name}" is ${formatMiB(file.size)} MiB; the limit is ${config.max_upload_mb} MiB.`);
    return;
  }
  const ticket = (opened += 1);
  if (clock) clock.stop();
  clock = ticker((label, seconds) => setStatus(`${label}… ${seconds} s`));
  clock.stage(`Opening ${name}`);
  let settle;
  const ready = new Promise((resolve) => {
    settle = resolve;
  });
  try {
    await openChecked(file, name, ticket, ready);
  } finally {
    if (ticket === opened) clock.stop();
    settle(ticket === opened && Boolean(state.base) && !state.opening);
  }
}

/** Lays the photo out from its header when that gives the size, decodes it, and makes it the
 * base once decoded (unless another photo was opened meanwhile: ``ticket`` is then old). */
async function openChecked(file, name, ticket, ready) {
  const header = probe(new Uint8Array(await file.arrayBuffer()));
  if (ticket !== opened) return;
  const early = Boolean(header) && fitsCanvas(header.width, header.height);
  state.opening = { name, ready, laidOut: early };
  const fields = { name, type: file.type, file, exif: header ? header.exif : null, icc: header ? header.icc : [] };
  if (early) {
    setBase({ ...fields, bitmap: null, preview: null, width: header.width, height: header.height, patches: [] });
    showThumbnail(header, ticket);
  } else {
    closePhoto(`Opening ${name}…`); // nothing to paint on until it is decoded, and the stage says so
  }
  let base;
  try {
    base = await decodeBase(file, fields);
  } catch {
    if (ticket !== opened) return;
    state.opening = null;
    closePhoto();
    showError(`"${name}" could not be read as an image. Choose a PNG, JPEG or WebP photo.`);
    return;
  }
  if (ticket !== opened) return;
  const sizeKept = early && base.width === header.width && base.height === header.height;
  if (sizeKept) state.base = { ...base, preview: null }; // the strokes painted meanwhile stay
  else setBase(base);
  state.opening = null;
  render();
  setStatus(
    `${name} · ${base.width} × ${base.height}. Paint over what should be removed, then press Fill.` +
      (base.notice ? ` ${base.notice}` : '') +
      (early && !sizeKept ? ' Its header gave another size, so what was painted while it opened is gone.' : ''),
  );
}

/** The photo decoded (EXIF orientation applied by the browser), scaled down only where a
 * canvas could not hold it: then its file no longer matches the pixels and is not sent. */
async function decodeBase(file, fields) {
  let bitmap = await decodeImage(file);
  const { width, height } = bitmap;
  if (fitsCanvas(width, height)) return { ...fields, bitmap, width, height, patches: [], notice: '' };
  const scale = Math.min(Math.sqrt(MAX_CANVAS_PIXELS / (width * height)), MAX_CANVAS_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.floor(width * scale));
  const h = Math.max(1, Math.floor(height * scale));
  bitmap = await resizeBitmap(bitmap, w, h);
  const notice =
    `Resized from ${width} × ${height} to ${w} × ${h} (${formatMP(w * h)} MP), ` +
    'the most a browser canvas holds.';
  return { ...fields, file: null, bitmap, width: w, height: h, patches: [], notice };
}

/** The JPEG's own thumbnail, turned upright and stretched over the photo, as something to
 * paint on while the photo decodes. */
async function showThumbnail(header, ticket) {
  if (!header.thumbnail) return;
  try {
    const bitmap = await createImageBitmap(new Blob([header.thumbnail], { type: 'image/jpeg' }));
    if (ticket !== opened || !state.base || state.base.bitmap) return;
    state.base = { ...state.base, preview: { bitmap, orientation: header.orientation } };
    render();
  } catch {
    // a damaged thumbnail only means no preview
  }
}

/** A new photo (or one still decoding) becomes the base: fresh history, full-resolution
 * canvases (every mask pixel is one photo pixel), a brush range that suits it, a fitted view. */
function setBase(img) {
  state.base = img;
  history.reset();
  state.comparing = false;
  canvas.resize(img.width, img.height);
  els.dropzone.hidden = true;
  els.wrap.hidden = false;
  adaptBrushRange(img.width, img.height);
  offerFormats(img.type);
  showPhoto(img.width, img.height);
  render();
}

/** Back to the empty stage (a photo that could not be read, or one opening without a size,
 * with ``title`` saying so). */
function closePhoto(title = EMPTY_TITLE) {
  state.base = null;
  history.reset();
  state.comparing = false;
  els.wrap.hidden = true;
  els.dropzone.hidden = false;
  els.emptyTitle.textContent = title;
  updateControls();
}

export function chooseFile() {
  if (state.busy) return;
  els.fileInput.value = ''; // so picking the same file again still fires "change"
  els.fileInput.click();
}

/** A mask file read by the server's rule: opaque pixels = fill when it has transparency,
 * else white (luminance > 127); added to the painted mask as one undoable step. */
export async function loadMask(file) {
  if (!file || state.busy || !state.base) return;
  clearError();
  let bitmap;
  try {
    bitmap = await decodeImage(file);
  } catch {
    showError(`"${file.name}" could not be read as a mask image. Choose a PNG.`);
    return;
  }
  const { width, height } = state.base;
  if (bitmap.width !== width || bitmap.height !== height) {
    showError(`The mask is ${bitmap.width} × ${bitmap.height} but the photo is ${width} × ${height}; they must match.`);
    return;
  }
  const mask = await canvas.maskBitmapFrom(bitmap);
  if (!mask) {
    showError(`"${file.name}" marks nothing to fill (white, or opaque where it has transparency, = fill).`);
    return;
  }
  history.push({ type: 'maskImage', ...mask });
  render();
  setStatus(`Mask loaded from "${file.name}". Fill, or paint to change it.`);
}

// ---------------------------------------------------------------- drag and drop, paste

function hasFiles(e) {
  return Boolean(e.dataTransfer) && [...e.dataTransfer.types].includes('Files');
}

let dragDepth = 0; // dragenter/leave fire for every child; count to know when we really left

export function onDragEnter(e) {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth += 1;
  els.dropOverlay.hidden = false;
}

export function onDragOver(e) {
  if (!hasFiles(e)) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = 'copy';
}

export function onDragLeave(e) {
  if (!hasFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) els.dropOverlay.hidden = true;
}

export function onDrop(e) {
  if (!hasFiles(e)) return;
  e.preventDefault(); // otherwise the browser navigates to the dropped file
  dragDepth = 0;
  els.dropOverlay.hidden = true;
  openFile(e.dataTransfer.files[0]);
}

export function onPaste(e) {
  if (isTypingTarget(e.target)) return;
  const items = e.clipboardData ? [...e.clipboardData.items] : [];
  const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/'));
  if (item) {
    e.preventDefault();
    openFile(item.getAsFile());
  } else if (items.some((i) => i.kind === 'file')) {
    showError('The clipboard holds a file that is not an image.');
  }
}
