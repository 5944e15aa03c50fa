/* JPEG metadata, read and written byte by byte (no dependency): what a photo's headers say
 * before it is decoded (size, EXIF orientation, the embedded thumbnail), its Exif block and
 * colour profile, and the splice that puts them into a JPEG the canvas encoded (a canvas
 * writes none, so without this a download loses the camera, the date and the colours).
 *
 * A JPEG is a run of segments, each a marker (0xFF, then a type byte) and, for all the ones
 * read here, a 2-byte big-endian length that counts itself and the payload. The metadata
 * sits in APPn segments before the frame header (SOFn, which holds the size) and the scan
 * (SOS), after which the compressed data runs to the end:
 *
 *   APP1 "Exif\0\0" + a TIFF structure: a byte-order mark, then IFDs (tables of 12-byte
 *        entries: tag, type, count, value or offset). IFD0 holds Orientation (0x0112) and a
 *        pointer to the Exif IFD (0x8769: camera settings, date, PixelX/YDimension); IFD1,
 *        when there is one, points at a small JPEG thumbnail (0x0201 offset, 0x0202 length).
 *   APP2 "ICC_PROFILE\0" + chunk number + chunk count + a piece of the ICC profile (a
 *        profile over 64 KiB spans several segments, kept in order here).
 */

const SOI = 0xd8;
const SOS = 0xda;
const EOI = 0xd9;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const EXIF_ID = 'Exif\0\0';
const ICC_ID = 'ICC_PROFILE\0';
const MAX_PAYLOAD = 0xffff - 2; // a segment's length field counts itself

const TAG_ORIENTATION = 0x0112;
const TAG_EXIF_IFD = 0x8769;
const TAG_PIXEL_X = 0xa002;
const TAG_PIXEL_Y = 0xa003;
const TAG_THUMBNAIL_OFFSET = 0x0201;
const TAG_THUMBNAIL_LENGTH = 0x0202;
const TYPE_SHORT = 3;
const TYPE_LONG = 4;

/** Whether ``bytes`` start with the JPEG start-of-image marker. */
const isJpeg = (bytes) => bytes.length > 3 && bytes[0] === 0xff && bytes[1] === SOI;

/** The segments before the scan, as {marker, start, payload, end} offsets into ``bytes`` (the
 * last one is the scan itself, reaching to the end); an empty list when it is not a JPEG. */
function segments(bytes) {
  if (!isJpeg(bytes)) return [];
  const found = [];
  let i = 2;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte before a marker
      continue;
    }
    if (marker === SOS || marker === EOI) {
      found.push({ marker, start: i, payload: i + 2, end: bytes.length });
      break;
    }
    const end = i + 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
    if (end > bytes.length) break; // truncated: keep what was whole
    found.push({ marker, start: i, payload: i + 4, end });
    i = end;
  }
  return found;
}

function startsWith(bytes, offset, id) {
  for (let k = 0; k < id.length; k += 1) if (bytes[offset + k] !== id.charCodeAt(k)) return false;
  return true;
}

const isExif = (bytes, s) => s.marker === APP1 && startsWith(bytes, s.payload, EXIF_ID);
const isIcc = (bytes, s) => s.marker === APP2 && startsWith(bytes, s.payload, ICC_ID);
// SOF0-SOF15 hold the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames
const isFrame = (m) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

// ---------------------------------------------------------------- the TIFF structure in Exif

/** A reader of the TIFF structure inside an Exif payload (which starts with "Exif\0\0"). */
function tiff(exif) {
  const base = EXIF_ID.length;
  const view = new DataView(exif.buffer, exif.byteOffset + base, exif.byteLength - base);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) throw new Error('not a TIFF header');
  const little = order === 0x4949;
  return {
    view,
    little,
    u16: (o) => view.getUint16(o, little),
    u32: (o) => view.getUint32(o, little),
    firstIfd: () => view.getUint32(4, little),
  };
}

/** The offset of the entry for ``tag`` in the IFD at ``ifd`` (TIFF offsets), or -1. */
function entryOf(t, ifd, tag) {
  const count = t.u16(ifd);
  for (let k = 0; k < count; k += 1) {
    const entry = ifd + 2 + 12 * k;
    if (t.u16(entry) === tag) return entry;
  }
  return -1;
}

/** An entry's value when it is one SHORT or LONG (which is stored in the entry itself). */
function numberAt(t, entry) {
  if (entry < 0 || t.u32(entry + 4) !== 1) return null;
  const type = t.u16(entry + 2);
  if (type === TYPE_SHORT) return t.u16(entry + 8);
  return type === TYPE_LONG ? t.u32(entry + 8) : null;
}

function setNumberAt(t, entry, value) {
  if (entry < 0 || t.u32(entry + 4) !== 1) return;
  const type = t.u16(entry + 2);
  if (type === TYPE_SHORT) t.view.setUint16(entry + 8, value, t.little);
  else if (type === TYPE_LONG) t.view.setUint32(entry + 8, value, t.little);
}

/** Orientation (1-8, 1 = upright) and the thumbnail's bytes from an Exif payload. */
function readExif(exif) {
  const t = tiff(exif);
  const ifd0 = t.firstIfd();
  const orientation = numberAt(t, entryOf(t, ifd0, TAG_ORIENTATION)) || 1;
  let thumbnail = null;
  const ifd1 = t.u32(ifd0 + 2 + 12 * t.u16(ifd0));
  if (ifd1) {
    const offset = numberAt(t, entryOf(t, ifd1, TAG_THUMBNAIL_OFFSET));
    const length = numberAt(t, entryOf(t, ifd1, TAG_THUMBNAIL_LENGTH));
    const start = EXIF_ID.length + (offset || 0);
    if (offset && length && start + length <= exif.length) thumbnail = exif.slice(start, start + length);
  }
  return { orientation: orientation >= 1 && orientation <= 8 ? orientation : 1, thumbnail };
}

// ---------------------------------------------------------------- reading

/** What a JPEG's headers say, without decoding it: the stored size (before orientation),
 * the EXIF orientation, the thumbnail's bytes, and the metadata worth carrying into a
 * download (the Exif payload and the ICC profile's APP2 payloads, in order). Null when
 * ``bytes`` are not a JPEG or hold no frame header. A malformed Exif block is left out. */
export function readJpeg(bytes) {
  let width = 0;
  let height = 0;
  let exif = null;
  const icc = [];
  for (const s of segments(bytes)) {
    if (isExif(bytes, s) && !exif) exif = bytes.slice(s.payload, s.end);
    else if (isIcc(bytes, s)) icc.push(bytes.slice(s.payload, s.end));
    else if (isFrame(s.marker) && s.payload + 5 <= s.end) {
      height = (bytes[s.payload + 1] << 8) | bytes[s.payload + 2];
      width = (bytes[s.payload + 3] << 8) | bytes[s.payload + 4];
    }
  }
  if (!width || !height) return null;
  let orientation = 1;
  let thumbnail = null;
  if (exif) {
    try {
      ({ orientation, thumbnail } = readExif(exif));
    } catch {
      exif = null; // unreadable: neither trusted for orientation nor copied into downloads
    }
  }
  return { width, height, orientation, thumbnail, exif, icc };
}

// ---------------------------------------------------------------- writing

/** A copy of an Exif payload that describes upright pixels of ``width`` x ``height``: the
 * Orientation tag set to 1 (the editor's pixels are already turned as the tag asked, so
 * keeping it would turn them again) and PixelX/YDimension set to the size written. */
export function uprightExif(exif, width, height) {
  const copy = exif.slice();
  const t = tiff(copy);
  const ifd0 = t.firstIfd();
  setNumberAt(t, entryOf(t, ifd0, TAG_ORIENTATION), 1);
  const exifIfd = numberAt(t, entryOf(t, ifd0, TAG_EXIF_IFD));
  if (exifIfd) {
    setNumberAt(t, entryOf(t, exifIfd, TAG_PIXEL_X), width);
    setNumberAt(t, entryOf(t, exifIfd, TAG_PIXEL_Y), height);
  }
  return copy;
}

function segment(marker, payload) {
  const out = new Uint8Array(4 + payload.length);
  out.set([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  out.set(payload, 4);
  return out;
}

/** ``encoded`` (a JPEG as a canvas writes it: JFIF header, no metadata) with the Exif
 * payload and the ICC payloads spliced in right after the start-of-image marker, where
 * readers look for them, as a Blob; the encoder's own JFIF, Exif and ICC segments are dropped. */
export function spliceMetadata(encoded, { exif = null, icc = [] }) {
  const parts = [encoded.subarray(0, 2)];
  for (const payload of [exif, ...icc]) {
    if (payload && payload.length <= MAX_PAYLOAD) parts.push(segment(payload === exif ? APP1 : APP2, payload));
  }
  for (const s of segments(encoded)) {
    if (s.marker === APP0 || isExif(encoded, s) || isIcc(encoded, s)) continue;
    parts.push(encoded.subarray(s.start, s.end));
  }
  return new Blob(parts, { type: 'image/jpeg' });
}

/** The ICC profile itself, as a Blob, from its APP2 payloads: each is "ICC_PROFILE\0", its
 * chunk number (from 1), the chunk count, then its piece of the profile. Null without any. */
export function iccProfile(payloads) {
  if (!payloads.length) return null;
  const pieces = [...payloads].sort((a, b) => a[ICC_ID.length] - b[ICC_ID.length]);
  return new Blob(pieces.map((p) => p.subarray(ICC_ID.length + 2)));
}

/** The TIFF structure an Exif payload holds (what a PNG's eXIf chunk takes). */
export const exifTiff = (exif) => exif.subarray(EXIF_ID.length);
