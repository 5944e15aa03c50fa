/* A still of the photo and its mask while the editor is busy.
 *
 * Without GPU compositing (a virtual machine, a remote desktop, a headless browser) the browser
 * scales the full-size photo and mask canvases, 48 MP each for a phone photo, again for every
 * frame of the spinner and every tick of its clock: a core taken, for the whole fill, from a
 * server on the same machine. While a job runs, one copy at the size the stage shows them
 * stands in for both.
 */

import { els } from './dom.js';

let still = null; // the canvas standing in, while one does

/** Puts a still in place of the photo and mask canvases, when they are shown scaled down
 * (at 1:1 or closer the browser draws only what is on screen, and a still would be as big). */
export function showStill() {
  const { wrap, image, mask } = els;
  if (still || wrap.hidden || !image.width) return;
  const scale = (wrap.clientWidth * window.devicePixelRatio) / image.width;
  if (!(scale > 0 && scale < 1)) return;
  const canvas = document.createElement('canvas');
  canvas.className = 'still';
  canvas.setAttribute('aria-hidden', 'true');
  canvas.width = Math.max(1, Math.round(image.width * scale));
  canvas.height = Math.max(1, Math.round(image.height * scale));
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = Number(getComputedStyle(mask).opacity); // the mask is painted opaque, shown translucent
  ctx.drawImage(mask, 0, 0, canvas.width, canvas.height);
  wrap.append(canvas);
  image.style.visibility = mask.style.visibility = 'hidden';
  still = canvas;
}

/** The canvases themselves again (the job ended, or the view zoomed and the still would blur). */
export function hideStill() {
  if (!still) return;
  still.remove();
  still = null;
  els.image.style.visibility = els.mask.style.visibility = '';
}
