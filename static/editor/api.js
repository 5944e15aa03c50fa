/* The HTTP client for POST /inpaint: builds the multipart form (the whole photo, or a crop
 * around the mask when the photo would exceed the upload limit), sends it, waits and retries
 * while the server answers 503 with Retry-After, turns error responses into sentences, and
 * pastes a filled crop back into the whole photo.
 *
 * The request goes to the relative URL 'inpaint', which fetch resolves against the page's
 * URL (not this module's), so the editor works under a root path.
 */

import { exportMask, maskBounds } from './canvas.js';
import { canvasToBlob, cropCanvas, decodeImage, pasteRegion } from './images.js';
import { config, formatMiB, maxUploadBytes } from './settings.js';

const BUSY_RETRIES = 5; // attempts of one fill while the server answers 503 (busy)

/** One fill of the current mask on ``image``: resolves to the whole filled photo, or throws
 * an Error a person can read (an AbortError when ``signal`` aborts). Options: ``model`` (empty
 * for the server's default), ``name`` (the upload's file name), ``grow()`` (pixels to grow the
 * mask by, read as the form is built), ``signal`` (Cancel) and ``onStatus(message)`` (progress
 * worth showing: the server is busy, retrying). */
export async function fillImage(image, { model, name, grow, signal, onStatus }) {
  const { form, region } = await buildForm(image, model, name, grow);
  const filled = await requestFill(form, { width: region[2], height: region[3] }, signal, onStatus);
  return pasteRegion(image, filled, region);
}

/** The multipart body of POST /inpaint, after the checks the server would make anyway.
 *
 * The whole photo is sent when it fits the upload limit (the original file's bytes while the
 * photo is unchanged). A larger one (a phone photo re-encoded losslessly, or a filled result
 * kept as PNG) is sent as a crop around the mask with context on every side; the server only
 * changes masked pixels, so pasting the filled crop back is exact. Returns the form and the
 * region it covers. */
async function buildForm(image, model, name, grow) {
  let region = [0, 0, image.width, image.height];
  let mask = await exportMask(region);
  if (!mask) throw new Error('The mask is empty: paint over the area to fill first.');
  let imageBlob = image.blob;
  if (imageBlob.size + mask.size > maxUploadBytes()) {
    region = cropAroundMask(image, grow());
    imageBlob = await canvasToBlob(cropCanvas(image.bitmap, region), 'image/png');
    mask = await exportMask(region);
  }
  const total = imageBlob.size + mask.size;
  if (total > maxUploadBytes()) {
    throw new Error(
      `The upload would be ${formatMiB(total)} MiB (image and mask) even cropped to the mask; the server accepts ` +
        `${config.max_upload_mb} MiB. Fill smaller areas one at a time.`,
    );
  }
  const form = new FormData();
  form.append('image', imageBlob, name);
  form.append('mask', mask, 'mask.png');
  if (model) form.append('model', model);
  if (grow() > 0) form.append('grow', String(grow()));
  form.append('format', 'png'); // lossless, so iterating never degrades the untouched pixels
  return { form, region };
}

/** [left, top, width, height] around the mask with as much context on each side as the
 * mask is large (at least 128 px), which is what the server's windows look at. */
function cropAroundMask(image, grow) {
  const [x0, y0, x1, y1] = maskBounds();
  const margin = Math.max(128, x1 - x0, y1 - y0) + grow;
  const left = Math.max(0, x0 - margin);
  const top = Math.max(0, y0 - margin);
  return [left, top, Math.min(image.width, x1 + margin) - left, Math.min(image.height, y1 + margin) - top];
}

/** Resolves after ``ms``, or rejects with an AbortError when the fill is cancelled. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('Fill cancelled', 'AbortError'));
    });
  });
}

/** Sends the request; resolves to the filled image, or throws an Error a person can read. */
async function requestFill(form, image, signal, onStatus) {
  let response;
  for (let attempt = 1; ; attempt += 1) {
    try {
      response = await fetch('inpaint', { method: 'POST', body: form, signal });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new Error('Fill failed: could not reach the server (network error). Check the connection and try again.');
    }
    // A busy server answers 503 with Retry-After at once: wait as it asks and try again.
    if (response.status !== 503 || attempt >= BUSY_RETRIES) break;
    const seconds = Math.min(30, Math.max(1, Number(response.headers.get('Retry-After')) || 1));
    onStatus(`The server is busy; trying again in ${seconds} s (attempt ${attempt + 1} of ${BUSY_RETRIES})…`);
    await sleep(seconds * 1000, signal);
  }
  if (!response.ok) throw new Error(`Fill failed: ${await describeHttpError(response)}`);
  const blob = await response.blob();
  let bitmap;
  try {
    bitmap = await decodeImage(blob);
  } catch {
    throw new Error('Fill failed: the server sent back something that is not an image.');
  }
  if (bitmap.width !== image.width || bitmap.height !== image.height) {
    throw new Error(
      `Fill failed: the server returned a ${bitmap.width} × ${bitmap.height} image for a ${image.width} × ${image.height} photo.`,
    );
  }
  return { bitmap, blob, width: bitmap.width, height: bitmap.height };
}

/** Turns an error response into one readable sentence: FastAPI's {"detail": ...} (a string,
 * or a list of validation errors), else the status line. */
async function describeHttpError(response) {
  let detail = '';
  try {
    const body = await response.clone().json();
    detail = body && body.detail;
    if (Array.isArray(detail)) {
      detail = detail.map((d) => (d && d.msg ? `${(d.loc || []).slice(-1)[0] || 'request'}: ${d.msg}` : String(d))).join('; ');
    } else if (detail && typeof detail === 'object') {
      detail = JSON.stringify(detail);
    }
  } catch {
    detail = (await response.text().catch(() => '')).trim().slice(0, 300);
  }
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return detail ? `${detail} (${status})` : `the server answered ${status}.`;
}
