/* Settings from outside the script: what the server passes to the page (models and upload
 * limits, in the template's #editor-config JSON block) and what the page remembers between
 * visits (localStorage), plus the limits' units as people read them in messages.
 */

export const config = readConfig();

function readConfig() {
  const fallback = { models: [], default_model: '', max_upload_mb: 20, max_pixels: 50331648, max_grow: 64 };
  try {
    return { ...fallback, ...JSON.parse(document.getElementById('editor-config').textContent) };
  } catch {
    return fallback;
  }
}

export const maxUploadBytes = () => Number(config.max_upload_mb) * 1024 * 1024;

export const formatMiB = (bytes) => (bytes / (1024 * 1024)).toFixed(1);
export const formatMP = (pixels) => (pixels / 1e6).toFixed(1);

/** localStorage get ('get', key) or set ('set', key, value), never throwing. */
export function safeStorage(op, key, value) {
  try {
    return op === 'get' ? localStorage.getItem(key) : localStorage.setItem(key, value);
  } catch {
    return null; // storage can be disabled (private mode, policies); it's only a convenience
  }
}
