/* Getting images in: the file picker, drag and drop, paste, and mask files.
 *
 * A photo is checked against the server's limits and, when the server could not take it as
 * it is (too many pixels, a format it does not decode), re-encoded as PNG; it then becomes the
 * editor's new base: fresh history, full-resolution canvases, a brush range that suits it, a
 * fitted view. A mask file is added to the painted mask as one undoable step.
 */

import { adaptBrushRange } from './brush.js';
import * as canvas from './canvas.js';
import { clearError, els, isTypingTarget, setStatus, showError } from './dom.js';
import * as history from './history.js';
import { bitmapCanvas, canvasToBlob, decodeImage, resizeBitmap } from './images.js';
import { config, formatMiB, formatMP, maxUploadBytes } from './settings.js';
import { render, revokeObjectUrls, state } from './state.js';
import { showPhoto } from './view.js';

const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp']; // what the server decodes

export async function openFile(file) {
  if (!file || state.busy) return;
  // the same care as closing the tab: a result that was never downloaded is not dropped silently
  if (state.unsaved && !window.confirm('The filled photo has not been downloaded. Open another photo and discard it?')) {
    els.fileInput.value = ''; // so picking that file again later still fires "change"
    return;
  }
  clearError();
  const name = file.name || 'pasted-image.png';
  if (file.type && !file.type.startsWith('image/')) {
    showError(`"${name}" is not an image. Choose a PNG, JPEG or WebP photo.`);
    return;
  }
  if (file.size > maxUploadBytes()) {
    showError(`"${name}" is ${formatMiB(file.size)} MiB; the limit is ${config.max_upload_mb} MiB.`);
    return;
  }
  let bitmap;
  try {
    bitmap = await decodeImage(file);
  } catch {
    showError(`"${name}" could not be read as an image. Choose a PNG, JPEG or WebP photo.`);
    return;
  }
  try {
    const prepared = await prepareUpload(file, bitmap);
    setBase({ ...prepared, name });
  } catch (err) {
    showError(err.message);
  }
}

/** Makes sure what we will upload is something the server accepts: within the pixel limit
 * and in a format it decodes. Otherwise the photo is re-encoded as PNG (and downscaled). */
async function prepareUpload(file, bitmap) {
  const pixels = bitmap.width * bitmap.height;
  const maxPixels = Number(config.max_pixels);
  let notice = '';
  if (pixels > maxPixels) {
    const scale = Math.sqrt(maxPixels / pixels);
    const w = Math.max(1, Math.floor(bitmap.width * scale));
    const h = Math.max(1, Math.floor(bitmap.height * scale));
    notice = `Resized from ${bitmap.width} × ${bitmap.height} to ${w} × ${h} to fit the ${formatMP(maxPixels)} MP limit.`;
    bitmap = await resizeBitmap(bitmap, w, h);
  } else if (ACCEPTED_TYPES.includes(file.type)) {
    return { bitmap, blob: file, width: bitmap.width, height: bitmap.height, notice };
  }
  // Lossless, even when larger than the upload limit: fills then send only a crop around the
  // mask (see api.js), so a phone photo stays fillable, round after round.
  const blob = await canvasToBlob(bitmapCanvas(bitmap), 'image/png');
  return { bitmap, blob, width: bitmap.width, height: bitmap.height, notice };
}

function setBase(img) {
  revokeObjectUrls();
  state.base = img;
  history.reset();
  state.comparing = false;
  state.unsaved = false;

  // Full-resolution canvases: every mask pixel corresponds to exactly one photo pixel.
  canvas.resize(img.width, img.height);
  els.dropzone.hidden = true;
  els.wrap.hidden = false;

  adaptBrushRange(img.width, img.height);
  showPhoto(img.width, img.height);
  render();
  setStatus(
    `${img.name} · ${img.width} × ${img.height}. Paint over what should be removed, then press Fill.` +
      (img.notice ? ` ${img.notice}` : ''),
  );
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
  history.push({ type: 'maskImage', bitmap: mask });
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
