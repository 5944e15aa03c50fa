/* What a photo file says about itself before it is decoded: its upright size, so the editor
 * can lay the photo out and take strokes at once while a big JPEG decodes for seconds, and
 * for a JPEG its orientation, thumbnail (a preview to paint on meanwhile) and metadata.
 */

import { readJpeg } from './jpeg.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** {width, height, orientation, thumbnail, exif, icc} read from the file's first bytes (the
 * size as it will show, orientation applied), or null when they do not say it for sure
 * (another format, a damaged header, a PNG whose eXIf chunk could turn it). */
export function probe(bytes) {
  const jpeg = readJpeg(bytes);
  if (jpeg) {
    const turned = jpeg.orientation >= 5; // 5-8 swap the sides
    return { ...jpeg, width: turned ? jpeg.height : jpeg.width, height: turned ? jpeg.width : jpeg.height };
  }
  return probePng(bytes);
}

function probePng(bytes) {
  if (bytes.length < 33 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunk = (at) => String.fromCharCode(...bytes.subarray(at + 4, at + 8));
  if (chunk(8) !== 'IHDR') return null;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  // chunks up to the image data: an eXIf chunk may carry an orientation the browser applies
  for (let at = 8; at + 8 <= bytes.length; at += 12 + view.getUint32(at)) {
    const type = chunk(at);
    if (type === 'eXIf') return null;
    if (type === 'IDAT') break;
  }
  if (!width || !height) return null;
  return { width, height, orientation: 1, thumbnail: null, exif: null, icc: [] };
}
