/* Image plumbing shared by opening, mask files, fills and downloads: decoding without colour
 * management, encoding, resizing and drawing through offscreen canvases. No state.
 *
 * An "image" in the editor is {bitmap, width, height, patches}: the photo as decoded, and the
 * filled regions pasted over it in the order they were filled, each {bitmap, left, top}
 * (opaque on the filled hole, transparent around it). A fill adds a patch (a new image object;
 * the one before stays for undo), so results stay bitmaps: nothing is encoded until a crop is
 * uploaded or the result is downloaded, and a fill on a 48 MP photo costs the memory of its
 * patch, not of another photo.
 */

/** Decodes without colour management: the server works on the stored pixel values and
 * writes results without a colour profile, so showing stored values keeps the photo, the
 * result and the before/after comparison consistent (and the mask aligned in colour too).
 * The download carries the photo's profile again (see download.js). */
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

/** The canvas's pixels encoded as ``type`` (``quality`` 0-1 for the lossy ones). */
export function canvasToBlob(canvas, type, quality) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('Could not encode the image.'))), type, quality);
  });
}

/** Draws ``image`` (photo and patches) with its pixel (left, top) at the context's origin. */
export function drawImage(ctx, image, left = 0, top = 0) {
  ctx.drawImage(image.bitmap, -left, -top);
  for (const patch of image.patches) ctx.drawImage(patch.bitmap, patch.left - left, patch.top - top);
}

/** A canvas holding the pixels of ``image`` in ``region`` [left, top, width, height]. */
export function regionCanvas(image, [left, top, width, height]) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  drawImage(canvas.getContext('2d'), image, left, top);
  return canvas;
}

/** ``image`` with ``patch`` pasted over it, as a new image (the old one is kept for undo). */
export const withPatch = (image, patch) => ({ ...image, patches: [...image.patches, patch] });

/** Draws a picture stored sideways or mirrored (EXIF ``orientation`` 1-8) upright, stretched
 * to ``width`` x ``height`` (the upright size): how the editor shows a JPEG's thumbnail while
 * the photo itself decodes (the browser turns the photo, not its thumbnail). */
export function drawOriented(ctx, bitmap, orientation, width, height) {
  const turned = orientation >= 5;
  const [w, h] = turned ? [height, width] : [width, height]; // the stored picture's sides, at this scale
  const transforms = {
    1: [1, 0, 0, 1, 0, 0],
    2: [-1, 0, 0, 1, w, 0],
    3: [-1, 0, 0, -1, w, h],
    4: [1, 0, 0, -1, 0, h],
    5: [0, 1, 1, 0, 0, 0],
    6: [0, 1, -1, 0, h, 0],
    7: [0, -1, -1, 0, h, w],
    8: [0, -1, 1, 0, 0, w],
  };
  ctx.save();
  ctx.setTransform(...(transforms[orientation] || transforms[1]));
  ctx.drawImage(bitmap, 0, 0, w, h);
  ctx.restore();
}

/** A file name's stem, safe to build download and upload names from. */
export function stem(name) {
  const base = (name || 'image').replace(/\.[^./\\]+$/, '');
  return base.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'image';
}
