/* The HTTP client for POST /inpaint: builds the multipart form (the photo's own file, the
 * whole image as PNG, or a crop around the mask, whichever the server's limits allow), sends
 * it while saying which stage it is at (uploading, then the server filling), waits and
 * retries while the server answers 503 with Retry-After, turns error responses into
 * sentences, and cuts the filled hole out of the answer as a patch to paste.
 *
 * The request goes to the relative URL 'inpaint', which XMLHttpRequest resolves against the
 * page's URL (not this module's), so the editor works under a root path. XMLHttpRequest
 * rather than fetch: only it reports when the upload is done, which is when the server's
 * work begins.
 */

import { exportMask } from './canvas.js';
import { canvasToBlob, decodeImage, regionCanvas, stem } from './images.js';
import { abortError } from './job.js';
import { config, formatMiB, formatMP, maxUploadBytes } from './settings.js';

const BUSY_RETRIES = 5; // attempts of one fill while the server answers 503 (busy)
const SENDABLE = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }; // what the server decodes
const MIN_CONTEXT = 16; // px of photo a crop keeps around the (grown) mask at the very least
const PATCH_RING = 2; // px kept around the grown mask in a patch (the server changes only the hole)
const PNG_BYTES_PER_PIXEL = 1; // a photo's PNG, guessed low (a third of raw RGB) until one is encoded

/** One fill of the current mask (whose bounding box is ``bounds``) on ``image``: resolves to
 * the patch to paste over it ({bitmap, left, top}: the grown hole's box, cut from the answer),
 * or throws an Error a person can read (an AbortError once ``job`` is cancelled). Options:
 * ``model`` (empty for the server's default), ``grow`` (px, within the server's range),
 * ``job`` (job.js: its signal and check()), ``onStage(label)`` (Preparing, Uploading,
 * Filling, Applying) and ``onStatus(message)`` (the server is busy, retrying). */
export async function fillImage(image, bounds, { model, grow, job, onStage, onStatus }) {
  onStage('Preparing');
  const { form, region } = await buildForm(image, bounds, model, grow, job);
  const filled = await requestFill(form, region, job, onStage, onStatus);
  try {
    const [x0, y0, x1, y1] = bounds;
    const margin = grow + PATCH_RING;
    const left = Math.max(region[0], x0 - margin);
    const top = Math.max(region[1], y0 - margin);
    const right = Math.min(region[0] + region[2], x1 + margin);
    const bottom = Math.min(region[1] + region[3], y1 + margin);
    const bitmap = await createImageBitmap(filled, left - region[0], top - region[1], right - left, bottom - top);
    job.check();
    return { bitmap, left, top };
  } finally {
    filled.close(); // the answer may be the whole photo: free it now, the patch is all we keep
  }
}

/** The multipart body of POST /inpaint and the region [left, top, width, height] it covers,
 * after the checks the server would make anyway.
 *
 * Cheapest first: the photo's own file while it is unchanged and within the limits (nothing
 * to encode); the whole image as PNG while it is small enough to fit; else a crop around
 * the mask with as much context as the limits allow. The server only changes masked pixels,
 * so pasting the filled crop back is exact. */
async function buildForm(image, bounds, model, grow, job) {
  const { width, height } = image;
  const whole = [0, 0, width, height];
  const maxPixels = Number(config.max_pixels);
  const name = stem(image.name);
  const attempts = []; // {region, encode, fileName, png}, cheapest first
  if (width * height <= maxPixels) {
    if (!image.patches.length && image.file && SENDABLE[image.file.type]) {
      const fileName = `${name}.${SENDABLE[image.file.type]}`;
      attempts.push({ region: whole, encode: async () => image.file, fileName, png: false });
    }
    // a PNG of a photo is rarely larger than its raw pixels: within that, the whole image fits
    if (width * height * 3 <= maxUploadBytes()) {
      attempts.push({ region: whole, encode: () => png(image, whole), fileName: `${name}.png`, png: true });
    }
  }
  for (const share of [1, 0.5, 0]) {
    const region = cropAroundMask(bounds, grow, width, height, maxPixels, share);
    if (!region) {
      const [x0, y0, x1, y1] = bounds;
      const needed = (x1 - x0 + 2 * grow) * (y1 - y0 + 2 * grow);
      throw new Error(
        `The painted area is too large for one fill (${formatMP(needed)} MP with its surroundings; the server ` +
          `takes ${formatMP(maxPixels)} MP). Fill it in parts.`,
      );
    }
    attempts.push({ region, encode: () => png(image, region), fileName: `${name}-region.png`, png: true });
  }
  let perPixel = PNG_BYTES_PER_PIXEL; // until a PNG of this photo says better
  let total = 0;
  for (const [i, { region, encode, fileName, png: isPng }] of attempts.entries()) {
    const pixels = region[2] * region[3];
    // encoding megapixels takes seconds: skip what would surely be too large (not the last try)
    if (isPng && i < attempts.length - 1 && pixels * perPixel > maxUploadBytes()) continue;
    const mask = await exportMask(region);
    job.check();
    if (!mask) throw new Error('The mask is empty: paint over the area to fill first.');
    const imageBlob = await encode();
    job.check();
    if (isPng) perPixel = imageBlob.size / pixels;
    total = imageBlob.size + mask.size;
    if (total > maxUploadBytes()) continue;
    const form = new FormData();
    form.append('image', imageBlob, fileName);
    form.append('mask', mask, 'mask.png');
    if (model) form.append('model', model);
    if (grow > 0) form.append('grow', String(grow));
    form.append('format', 'png'); // lossless, so iterating never degrades the untouched pixels
    return { form, region };
  }
  throw new Error(
    `The upload would be ${formatMiB(total)} MiB (image and mask) even cropped to the mask; the server accepts ` +
      `${config.max_upload_mb} MiB. Fill smaller areas one at a time.`,
  );
}

const png = (image, region) => canvasToBlob(regionCanvas(image, region), 'image/png');

/** [left, top, width, height] around the mask's ``bounds`` grown by ``grow``, with context on
 * each side: ``share`` of half the mask's size, at least ``share`` of 128 px (the server's
 * window around a compact hole spans twice the hole, so half its size on each side holds the
 * window: model.inference), less where the crop would exceed ``maxPixels``; null when even the
 * grown mask with a thin ring of context does. */
function cropAroundMask([x0, y0, x1, y1], grow, width, height, maxPixels, share) {
  const box = (m) => {
    const left = Math.max(0, x0 - m);
    const top = Math.max(0, y0 - m);
    return [left, top, Math.min(width, x1 + m) - left, Math.min(height, y1 + m) - top];
  };
  const fits = (m) => {
    const [, , w, h] = box(m);
    return w * h <= maxPixels;
  };
  let low = grow + MIN_CONTEXT;
  if (!fits(low)) return null;
  let high = Math.max(low, grow + Math.round(share * Math.max(128, (x1 - x0) / 2, (y1 - y0) / 2)));
  while (high > low) {
    const middle = Math.ceil((low + high) / 2); // the widest margin that fits
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return box(low);
}

/** Sends the form; resolves to the answer decoded (the filled region, checked to be its
 * size), or throws an Error a person can read (an AbortError once cancelled, even when the
 * answer has arrived). */
async function requestFill(form, region, job, onStage, onStatus) {
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
  onStage('Applying'); // the answer is here: decode it and cut the patch
  let bitmap;
  try {
    bitmap = await decodeImage(await response.blob());
  } catch {
    throw new Error('Fill failed: the server sent back something that is not an image.');
  }
  if (job.signal.aborted) {
    bitmap.close();
    throw abortError();
  }
  const [, , width, height] = region;
  if (bitmap.width !== width || bitmap.height !== height) {
    bitmap.close();
    throw new Error(
      `Fill failed: the server returned a ${bitmap.width} × ${bitmap.height} image ` +
        `for a ${width} × ${height} upload.`,
    );
  }
  return bitmap;
}

/** One POST of ``form``, reporting 'Uploading' until the body is sent, then 'Filling' until
 * the answer arrives; resolves to the answer as a Response. */
function send(form, signal, onStage) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', 'inpaint');
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
