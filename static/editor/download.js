/* Download: the result is encoded only when it is downloaded (fills keep bitmaps), at the
 * photo's full resolution and in the format it came in: a JPEG as a high-quality JPEG that
 * keeps the photo's Exif (camera, date; Orientation set to upright, since the pixels already
 * are) and its colour profile (jpeg.js), a PNG as PNG; lossless PNG on request, which keeps
 * a JPEG's Exif and profile too (png.js). A WebP comes back as WebP without them.
 */

import { clearError, els, setStatus, showError } from './dom.js';
import * as history from './history.js';
import { canvasToBlob, regionCanvas, stem } from './images.js';
import { exifTiff, iccProfile, spliceMetadata, uprightExif } from './jpeg.js';
import { withPngMetadata } from './png.js';
import { formatMiB } from './settings.js';
import { state, updateControls } from './state.js';

const FORMATS = {
  'image/jpeg': { type: 'image/jpeg', extension: 'jpg', quality: 0.95, label: 'JPEG' },
  'image/webp': { type: 'image/webp', extension: 'webp', quality: 0.95, label: 'WebP' },
  png: { type: 'image/png', extension: 'png', label: 'PNG' },
};

let saving = false; // a download is being encoded

/** The format a download of a photo of ``type`` gets with the format choice ``choice``
 * ('original': as the photo came, 'png'). */
function formatFor(type, choice) {
  return (choice !== 'png' && FORMATS[type]) || FORMATS.png;
}

/** Names the format choice's first option after the opened photo's format. */
export function offerFormats(type) {
  const original = formatFor(type, 'original');
  els.downloadFormat.options[0].textContent = original.label;
  els.downloadFormat.value = 'original';
  els.download.title = `Download the result as ${original.label}, full size (Ctrl+S)`;
  const kept = original.type === 'image/jpeg' ? ', its camera data and colour profile kept' : '';
  els.downloadFormat.title = `${original.label} as the photo came (quality 95 %${kept}), or lossless PNG`;
}

/** Encodes the result on show and saves it under ``<photo>-inpainted.<ext>``. */
export async function download() {
  const fill = history.lastFill();
  if (!fill || state.busy || saving) return;
  saving = true;
  clearError();
  setStatus('Preparing the download…');
  try {
    const { blob, name } = await encode(fill.after, els.downloadFormat.value);
    save(blob, name);
    state.downloaded.add(fill);
    setStatus(`Downloaded ${name}: ${fill.after.width} × ${fill.after.height}, ${formatMiB(blob.size)} MiB.`);
  } catch (err) {
    showError(`Download failed: ${err.message}`);
  } finally {
    saving = false;
    updateControls();
  }
}

async function encode(image, choice) {
  const format = formatFor(image.type, choice);
  const { width, height } = image;
  const name = `${stem(image.name)}-inpainted.${format.extension}`;
  const blob = await canvasToBlob(regionCanvas(image, [0, 0, width, height]), format.type, format.quality);
  const exif = uprightOrNone(image.exif, width, height);
  if (!exif && !image.icc.length) return { blob, name };
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (format.type === 'image/jpeg') return { blob: spliceMetadata(bytes, { exif, icc: image.icc }), name };
  if (format.type === 'image/png') {
    const metadata = { profile: iccProfile(image.icc), tiff: exif && exifTiff(exif) };
    return { blob: await withPngMetadata(bytes, metadata), name };
  }
  return { blob, name };
}

/** The photo's Exif made upright for a ``width`` x ``height`` download; null without one, or
 * when it cannot be made upright (kept as it is, it would turn the photo again). */
function uprightOrNone(exif, width, height) {
  if (!exif) return null;
  try {
    return uprightExif(exif, width, height);
  } catch {
    return null;
  }
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // long after the browser has read it
}
