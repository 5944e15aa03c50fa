/* What one fill sends to POST /inpaint/regions, within the server's limits, cheapest first.
 *
 * The mask is only the painted rectangle, placed with mask_left and mask_top: a 48 MP photo
 * never sends a 48 MP mask. The image is the photo's own file (nothing to encode) while the
 * fill reads nothing an earlier fill changed; otherwise a PNG crop of the current image
 * around the mask, with as much context as the limits allow. The server changes only hole
 * pixels, so its tiles of the crop, moved by the crop's origin, paste exactly.
 */

import { exportMask } from './canvas.js';
import { canvasToBlob, regionCanvas, stem } from './images.js';
import { config, formatMiB, formatMP, maxUploadBytes } from './settings.js';

const SENDABLE = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }; // what the server decodes
const MIN_CONTEXT = 16; // px of photo a crop keeps around the (grown) mask at the very least
const PNG_BYTES_PER_PIXEL = 1; // a photo's PNG, guessed low (a third of raw RGB) until one is encoded

/** The multipart body of one fill of the mask (bounding box ``bounds`` [x0, y0, x1, y1)) on
 * ``image``, and the region [left, top, width, height] of the photo its image covers (the
 * answer's tiles are in that region's coordinates). Throws an Error a person can read when
 * nothing fits the server's limits. */
export async function buildUpload(image, bounds, model, grow, job) {
  const [x0, y0, x1, y1] = bounds;
  const mask = await exportMask([x0, y0, x1 - x0, y1 - y0]);
  job.check();
  if (!mask) throw new Error('The mask is empty: paint over the area to fill first.');
  const sent = originalFile(image, bounds, grow, mask.size) || (await cropUpload(image, bounds, grow, mask.size, job));
  const [left, top] = sent.region;
  const form = new FormData();
  form.append('image', sent.blob, sent.fileName);
  form.append('mask', mask, 'mask.png');
  form.append('mask_left', String(x0 - left));
  form.append('mask_top', String(y0 - top));
  if (model) form.append('model', model);
  if (grow > 0) form.append('grow', String(grow));
  return { form, region: sent.region };
}

/** The photo's own file, when the server takes it (its type, its pixels, its bytes beside the
 * mask's ``maskBytes``) and
 * no earlier fill lies in the area this fill reads: the server's windows read the crop
 * ``cropAroundMask`` takes with its full context, so within it the file and the current image
 * hold the same pixels and fill the same. Null otherwise. */
function originalFile(image, bounds, grow, maskBytes) {
  const { file, width, height, patches } = image;
  const extension = file && SENDABLE[file.type];
  const maxPixels = Number(config.max_pixels);
  if (!extension || file.size + maskBytes > maxUploadBytes() || width * height > maxPixels) return null;
  const read = cropAroundMask(bounds, grow, width, height, maxPixels, 1);
  if (patches.some((patch) => overlaps(read, [patch.left, patch.top, patch.bitmap.width, patch.bitmap.height]))) {
    return null;
  }
  return { region: [0, 0, width, height], blob: file, fileName: `${stem(image.name)}.${extension}` };
}

const overlaps = ([al, at, aw, ah], [bl, bt, bw, bh]) => al < bl + bw && bl < al + aw && at < bt + bh && bt < at + ah;

/** A PNG crop of ``image`` around the mask: full context, then half, then the least, the
 * first whose PNG fits in the upload beside the mask's ``maskBytes``. */
async function cropUpload(image, bounds, grow, maskBytes, job) {
  const { width, height } = image;
  const maxPixels = Number(config.max_pixels);
  const room = maxUploadBytes() - maskBytes;
  const crops = [];
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
    if (!crops.some((crop) => String(crop) === String(region))) crops.push(region);
  }
  let perPixel = PNG_BYTES_PER_PIXEL; // until a PNG of this photo says better
  let size = 0;
  for (const [i, region] of crops.entries()) {
    const pixels = region[2] * region[3];
    // encoding megapixels takes seconds: skip what would surely be too large (not the last try)
    if (i < crops.length - 1 && pixels * perPixel > room) continue;
    const blob = await canvasToBlob(regionCanvas(image, region), 'image/png');
    job.check();
    perPixel = blob.size / pixels;
    size = blob.size;
    if (size <= room) return { region, blob, fileName: `${stem(image.name)}-region.png` };
  }
  throw new Error(
    `The upload would be ${formatMiB(size + maskBytes)} MiB (image and mask) even cropped to the ` +
      `mask; the server accepts ${config.max_upload_mb} MiB. Fill smaller areas one at a time.`,
  );
}

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
