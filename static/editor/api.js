/* The HTTP client for POST /inpaint/regions: sends what upload.js builds (the photo's file or
 * a crop around the mask, and the painted rectangle of the mask) while saying which stage it
 * is at (uploading, then the server filling), waits and retries while the server answers 503
 * with Retry-After, turns error responses into sentences, and draws the answer's tiles (the
 * filled pixels alone, opaque on the hole) into one patch to paste over the image.
 *
 * The request goes to the relative URL 'inpaint/regions', which XMLHttpRequest resolves
 * against the page's URL (not this module's), so the editor works under a root path.
 * XMLHttpRequest rather than fetch: only it reports when the upload is done, which is when
 * the server's work begins.
 */

import { decodeImage } from './images.js';
import { abortError } from './job.js';
import { buildUpload } from './upload.js';

const BUSY_RETRIES = 5; // attempts of one fill while the server answers 503 (busy)
const NOT_A_FILL = 'Fill failed: the server sent back something that is not a fill.';

/** One fill of the current mask (whose bounding box is ``bounds``) on ``image``: resolves to
 * the patch to paste over it ({bitmap, left, top}: the grown hole's box, transparent outside
 * the hole), or throws an Error a person can read (an AbortError once ``job`` is cancelled).
 * Options: ``model`` (empty for the server's default), ``grow`` (px, within the server's
 * range), ``job`` (job.js: its signal and check()), ``onStage(label)`` (Preparing,
 * Uploading, Filling, Applying) and ``onStatus(message)`` (the server is busy, retrying). */
export async function fillImage(image, bounds, { model, grow, job, onStage, onStatus }) {
  onStage('Preparing');
  const { form, region } = await buildUpload(image, bounds, model, grow, job);
  const answer = await requestFill(form, job, onStage, onStatus);
  checkAnswer(answer, region);
  return patchFrom(answer.tiles, region, job);
}

/** Sends the form; resolves to the answer's JSON, or throws an Error a person can read (an
 * AbortError once cancelled, even when the answer has arrived). */
async function requestFill(form, job, onStage, onStatus) {
  let response;
  for (let attempt = 1; ; attempt += 1) {
    response = await send(form, job.signal, onStage);
    // A busy server answers 503 with Retry-After at once: wait as it asks and try again.
    if (response.status !== 503 || attempt >= BUSY_RETRIES) break;
    const seconds = Math.min(30, Math.max(1, Number(response.headers.get('Retry-After')) || 1));
    onStatus(`The server is busy; trying again in ${seconds} s (attempt ${attempt + 1} of ${BUSY_RETRIES})…`);
    await sleep(seconds * 1000, job.signal);
  }
  if (!response.ok) throw new Error(`Fill failed: ${await describeHttpError(response)}`);
  onStage('Applying'); // the answer is here: decode its tiles and paste them
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new Error(NOT_A_FILL);
  }
  job.check();
  return answer;
}

/** Throws unless ``answer`` fills an image of the size sent (``region``) with tiles inside it. */
function checkAnswer(answer, [, , width, height]) {
  if (!answer || !Array.isArray(answer.tiles) || !answer.tiles.length) throw new Error(NOT_A_FILL);
  if (answer.width !== width || answer.height !== height) {
    throw new Error(
      `Fill failed: the server filled a ${answer.width} × ${answer.height} image for a ${width} × ${height} upload.`,
    );
  }
  const inside = (t) => t.left >= 0 && t.top >= 0 && t.left + t.width <= width && t.top + t.height <= height;
  if (!answer.tiles.every((t) => t && typeof t.png === 'string' && inside(t))) throw new Error(NOT_A_FILL);
}

/** The answer's ``tiles`` (in the coordinates of ``region``, the part of the photo sent) drawn
 * into one patch: the box of the filled pixels, in photo coordinates, transparent elsewhere. */
async function patchFrom(tiles, [regionLeft, regionTop], job) {
  const settled = await Promise.allSettled(tiles.map(decodeTile));
  const bitmaps = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  try {
    job.check();
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const left = Math.min(...tiles.map((t) => t.left));
    const top = Math.min(...tiles.map((t) => t.top));
    const right = Math.max(...tiles.map((t) => t.left + t.width));
    const bottom = Math.max(...tiles.map((t) => t.top + t.height));
    const canvas = new OffscreenCanvas(right - left, bottom - top);
    const ctx = canvas.getContext('2d');
    tiles.forEach((t, i) => ctx.drawImage(bitmaps[i], t.left - left, t.top - top));
    return { bitmap: canvas.transferToImageBitmap(), left: regionLeft + left, top: regionTop + top };
  } finally {
    for (const bitmap of bitmaps) bitmap.close();
  }
}

/** One tile's base64 PNG decoded as the photo is (no colour management), checked to be its size. */
async function decodeTile(tile) {
  let bitmap;
  try {
    const bytes = Uint8Array.fromBase64 ? Uint8Array.fromBase64(tile.png) : binary(atob(tile.png));
    bitmap = await decodeImage(new Blob([bytes], { type: 'image/png' }));
  } catch {
    throw new Error('Fill failed: the server sent back a tile that is not an image.');
  }
  if (bitmap.width !== tile.width || bitmap.height !== tile.height) {
    bitmap.close();
    throw new Error(NOT_A_FILL);
  }
  return bitmap;
}

const binary = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** One POST of ``form``, reporting 'Uploading' until the body is sent, then 'Filling' until
 * the answer arrives; resolves to the answer as a Response. */
function send(form, signal, onStage) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', 'inpaint/regions');
    xhr.responseType = 'blob';
    xhr.upload.addEventListener('loadend', () => onStage('Filling'));
    xhr.addEventListener('load', () => {
      const headers = { 'Content-Type': xhr.getResponseHeader('Content-Type') || '' };
      const retryAfter = xhr.getResponseHeader('Retry-After');
      if (retryAfter) headers['Retry-After'] = retryAfter;
      resolve(new Response(xhr.response, { status: xhr.status, statusText: xhr.statusText, headers }));
    });
    xhr.addEventListener('error', () =>
      reject(new Error('Fill failed: could not reach the server (network error). Check the connection and try again.')),
    );
    xhr.addEventListener('abort', () => reject(abortError()));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    onStage('Uploading');
    xhr.send(form);
  });
}

/** Resolves after ``ms``, or rejects with an AbortError when the fill is cancelled. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(abortError());
    });
  });
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
