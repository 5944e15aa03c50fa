/* PNG metadata, written byte by byte (no dependency): the photo's colour profile (an iCCP
 * chunk) and its Exif (an eXIf chunk) put into a PNG the canvas encoded, which has neither,
 * so a lossless download of a Display-P3 or Adobe RGB photo keeps its colours and its camera
 * data as the JPEG download does.
 *
 * A PNG is an 8-byte signature, then chunks: a 4-byte big-endian data length, a 4-letter
 * type, the data, and the CRC-32 of type and data. iCCP (a profile name, a 0 byte, the
 * compression method 0, the profile deflated in zlib format) and eXIf (a TIFF structure, as
 * in a JPEG's Exif after its "Exif\0\0") must come before the image data: they go right after
 * the header chunk (IHDR), which is always first.
 */

const SIGNATURE_AND_HEADER = 8 + 4 + 4 + 13 + 4; // signature, then IHDR: length, type, data, CRC
const PROFILE_NAME = 'ICC profile';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i += 1) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let k = 0; k < 4; k += 1) out[4 + k] = type.charCodeAt(k);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** ``blob`` compressed in zlib format (what iCCP holds), by the browser's own deflate. */
async function deflate(blob) {
  const stream = blob.stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** ``encoded`` (a PNG as a canvas writes it) with an iCCP chunk for the ICC ``profile`` (a
 * Blob) and an eXIf chunk for ``tiff`` (either may be null) after its header, as a Blob. */
export async function withPngMetadata(encoded, { profile = null, tiff = null }) {
  const parts = [encoded.subarray(0, SIGNATURE_AND_HEADER)];
  if (profile) {
    const compressed = await deflate(profile);
    const data = new Uint8Array(PROFILE_NAME.length + 2 + compressed.length);
    for (let k = 0; k < PROFILE_NAME.length; k += 1) data[k] = PROFILE_NAME.charCodeAt(k);
    data.set(compressed, PROFILE_NAME.length + 2); // a 0 byte ends the name; compression method 0
    parts.push(chunk('iCCP', data));
  }
  if (tiff) parts.push(chunk('eXIf', tiff));
  parts.push(encoded.subarray(SIGNATURE_AND_HEADER));
  return new Blob(parts, { type: 'image/png' });
}
