/* Holes as plain arrays (a Uint8Array of width x height, 1 = hole), read the way the server
 * reads them: grown with OpenCV's elliptical kernel (what POST /inpaint's ``grow`` does, see
 * model.holes.grow_hole), outlined for Compare, and classified by shape, which says which
 * models suit them. No DOM.
 */

/** Half-widths of OpenCV's MORPH_ELLIPSE kernel of side 2 * px + 1, row by row from -px to
 * px: round(px * sqrt((px² - dy²) / px²)), as cv2.getStructuringElement computes them. */
function ellipseRows(px) {
  const rows = [];
  for (let dy = -px; dy <= px; dy += 1) rows.push(Math.round(px * Math.sqrt((px * px - dy * dy) / (px * px))));
  return rows;
}

/** Each row's runs of hole pixels as [start, end) pairs. */
function rowRuns(hole, width, height) {
  const runs = [];
  for (let y = 0; y < height; y += 1) {
    const row = [];
    const at = y * width;
    for (let x = 0; x < width; x += 1) {
      if (!hole[at + x]) continue;
      const start = x;
      while (x < width && hole[at + x]) x += 1;
      row.push(start, x);
    }
    runs.push(row);
  }
  return runs;
}

/** The hole dilated by ``px`` pixels with OpenCV's elliptical kernel, bit for bit what the
 * server fills with ``grow=px``. Cost grows with the rows times the kernel's height, not
 * with the area times the kernel's: each output row is the union of the input rows within
 * reach, each run widened by the kernel's half-width at that distance (a difference array
 * turns the runs into pixels). */
export function growHole(hole, width, height, px) {
  if (px <= 0) return hole.slice();
  const reach = ellipseRows(px);
  const runs = rowRuns(hole, width, height);
  const out = new Uint8Array(width * height);
  const cover = new Int32Array(width + 1);
  for (let y = 0; y < height; y += 1) {
    cover.fill(0);
    let any = false;
    for (let dy = -px; dy <= px; dy += 1) {
      const source = runs[y + dy];
      if (!source || !source.length) continue;
      const half = reach[dy + px];
      for (let k = 0; k < source.length; k += 2) {
        cover[Math.max(0, source[k] - half)] += 1;
        cover[Math.min(width, source[k + 1] + half)] -= 1;
        any = true;
      }
    }
    if (!any) continue;
    let inside = 0;
    for (let x = 0, at = y * width; x < width; x += 1) {
      inside += cover[x];
      if (inside > 0) out[at + x] = 1;
    }
  }
  return out;
}

/** The hole's outline: 1 on hole pixels next to a pixel outside it, 2 on outside pixels next
 * to the hole (4-neighbours): two one-pixel lines, drawn light and dark so the outline shows
 * on any background. Pixels beyond the array's edge count as neither. */
export function outline(hole, width, height) {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = y * width + x;
      const inside = hole[at];
      const differs =
        (x > 0 && hole[at - 1] !== inside) ||
        (x < width - 1 && hole[at + 1] !== inside) ||
        (y > 0 && hole[at - width] !== inside) ||
        (y < height - 1 && hole[at + width] !== inside);
      if (differs) out[at] = inside ? 1 : 2;
    }
  }
  return out;
}

const SOLID = 0.9; // share of its bounding box a hole fills to count as a solid rectangle
const SQUARE = 1.5; // longest side over shortest for a solid rectangle to count as square

/** What a hole looks like, in the terms models are trained on: 'square' (one solid, roughly
 * square block: the paper's central hole, wherever it is, since the server centres a window
 * on each hole), 'box' (one solid, elongated rectangle) or 'free' (anything painted). */
export function holeShape(hole, width, height) {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let count = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if (!hole[y * width + x]) continue;
      count += 1;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (!count) return 'free';
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  if (count < SOLID * w * h) return 'free';
  return Math.max(w, h) <= SQUARE * Math.min(w, h) ? 'square' : 'box';
}
