/* Image plumbing shared by opening, mask files and fills: decoding without colour management,
 * encoding, resizing, cropping and pasting bitmaps through offscreen canvases. No state.
 *
 * An "image" in the editor is {bitmap, blob, width, height}: the decoded pixels to draw and
 * the encoded bytes to upload or download.
 */

/** Decodes without colour management: the server works on the stored pixel values and
 * writes results without a colour profile, so showing stored values keeps the photo, the
 * result and the before/after comparison consistent (and the mask aligned in colour too). */
export function decodeImage(blob) {
  return createImageBitmap(blob, { colorSpaceConversion: 'none' });
}

export function bitmapCanvas(bitmap, w = bitmap.width, h = bitmap.height) {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, w, h);
  return canvas;
}

export async function resizeBitmap(bitmap, w, h) {
  return createImageBitmap(bitmapCanvas(bitmap, w, h));
}

export function canvasToBlob(canvas, type) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('Could not encode the image.'))), type);
  });
}

export function cropCanvas(bitmap, [left, top, width, height]) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, left, top, width, height, 0, 0, width, height);
  return canvas;
}

/** The filled region pasted into the whole photo, as a new lossless image. */
export async function pasteRegion(image, filled, [left, top, width, height]) {
  if (left === 0 && top === 0 && width === image.width && height === image.height) return filled;
  const canvas = bitmapCanvas(image.bitmap);
  canvas.getContext('2d').drawImage(filled.bitmap, left, top);
  const blob = await canvasToBlob(canvas, 'image/png');
  const bitmap = await decodeImage(blob);
  return { bitmap, blob, width: image.width, height: image.height };
}
