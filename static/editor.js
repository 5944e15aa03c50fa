/* Inpainting editor: open a photo, paint a mask, send both to POST /inpaint, iterate.
 *
 * Two stacked canvases hold the image and the mask at the image's full resolution; CSS
 * scales them to the viewport, so painting maps client coordinates through the canvas
 * bounding box and the mask sent to the server is already pixel-aligned with the photo.
 *
 * Edits are kept as a list of operations (strokes, clears, fills) with a cursor, so undo and
 * redo are a cursor move plus a replay of the strokes since the last fill; that stays cheap
 * in memory even for large photos (no per-step bitmap snapshots). Undoing a fill restores
 * the previous image and the mask that produced it.
 */
(() => {
  'use strict';

  const MASK_COLOUR = '#ff3d6e'; // painted opaque; the canvas element's CSS opacity tints it
  const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp']; // what the server decodes
  const MIN_ZOOM = 0.02;
  const MAX_ZOOM = 16;
  const MAX_FIT_ZOOM = 4; // small images are enlarged to fit, but not absurdly
  const MODEL_STORAGE_KEY = 'inpaint.model';
  const MASK_COLOUR_KEY = 'inpaint.maskColour';
  const BUSY_RETRIES = 5; // attempts of one fill while the server answers 503 (busy)
  // the mask is painted in MASK_COLOUR; other colours are a hue rotation of the whole canvas,
  // so what is painted (and sent) never changes, only how it shows over the photo
  const MASK_FILTERS = { pink: 'none', cyan: 'hue-rotate(170deg)', lime: 'hue-rotate(255deg) saturate(1.4)' };
  const PINCH_GRACE_MS = 250; // a second finger within this time turns a stroke into a pinch

  const $ = (id) => document.getElementById(id);

  const els = {
    stage: $('stage'),
    wrap: $('canvas-wrap'),
    image: $('image-canvas'),
    mask: $('canvas'),
    dropzone: $('dropzone'),
    dropOverlay: $('drop-overlay'),
    cursor: $('brush-cursor'),
    badge: $('before-badge'),
    fileInput: $('file-input'),
    openBtn: $('open-btn'),
    emptyOpenBtn: $('empty-open-btn'),
    brushBtn: $('brush-btn'),
    eraserBtn: $('eraser-btn'),
    size: $('brush-size'),
    maskColour: $('mask-colour'),
    maskOpen: $('mask-open-btn'),
    maskInput: $('mask-input'),
    grow: $('grow'),
    compare: $('compare-btn'),
    compareDialog: $('compare-dialog'),
    compareGrid: $('compare-grid'),
    compareClose: $('compare-close'),
    sizeValue: $('brush-size-value'),
    undo: $('undo-btn'),
    redo: $('redo-btn'),
    clear: $('clear-btn'),
    zoomIn: $('zoom-in-btn'),
    zoomOut: $('zoom-out-btn'),
    fit: $('fit-btn'),
    zoomLevel: $('zoom-level'),
    model: $('model-select'),
    modelInfo: $('model-info'),
    fill: $('fill-btn'),
    toggle: $('result-toggle'),
    download: $('download-link'),
    spinner: $('spinner'),
    cancel: $('cancel-btn'),
    error: $('error'),
    errorText: $('error-text'),
    errorClose: $('error-close'),
    status: $('status'),
    shortcutsBtn: $('shortcuts-btn'),
    shortcuts: $('shortcuts'),
  };

  const imageCtx = els.image.getContext('2d');
  const maskCtx = els.mask.getContext('2d');

  const config = readConfig();

  const state = {
    base: null, // the image as opened: {bitmap, blob, width, height, name}
    history: [], // operations: {type: 'stroke'|'clear'|'fill', ...}
    cursor: 0, // how many operations of `history` are applied
    tool: 'brush',
    size: Number(els.size.value),
    zoom: 1,
    fitMode: true, // keep fitting on resize until the person zooms by hand
    busy: false,
    comparing: false,
    shownImage: null, // the image object currently drawn on the image canvas
    stroke: null, // the stroke being painted (not yet in history)
    pointers: new Map(), // active touch/pen/mouse pointers, for pinch and pan
    gesture: null, // {kind: 'pinch'|'pan', ...}
    spaceHeld: false,
    pointerOverStage: false,
    abort: null,
    unsaved: false, // a fill result exists that has not been downloaded
    objectUrls: [],
  };

  // ---------------------------------------------------------------- config

  function readConfig() {
    const fallback = { models: [], default_model: '', max_upload_mb: 20, max_pixels: 16777216 };
    try {
      return { ...fallback, ...JSON.parse($('editor-config').textContent) };
    } catch {
      return fallback;
    }
  }

  const maxUploadBytes = () => Number(config.max_upload_mb) * 1024 * 1024;

  // ---------------------------------------------------------------- messages

  function showError(message) {
    els.errorText.textContent = message;
    els.error.hidden = false;
  }

  function clearError() {
    els.error.hidden = true;
    els.errorText.textContent = '';
  }

  function setStatus(message) {
    els.status.textContent = message;
  }

  const formatMiB = (bytes) => (bytes / (1024 * 1024)).toFixed(1);
  const formatMP = (pixels) => (pixels / 1e6).toFixed(1);

  // ---------------------------------------------------------------- history model

  function lastFillIndex(upTo = state.cursor) {
    for (let i = upTo - 1; i >= 0; i -= 1) {
      if (state.history[i].type === 'fill') return i;
    }
    return -1;
  }

  function lastFill() {
    const i = lastFillIndex();
    return i >= 0 ? state.history[i] : null;
  }

  /** The working image: the latest applied fill result, else the opened image. */
  function currentImage() {
    const fill = lastFill();
    return fill ? fill.after : state.base;
  }

  /** Operations that make up the current mask (everything since the last fill). */
  function maskOperations() {
    return state.history.slice(lastFillIndex() + 1, state.cursor);
  }

  /** Whether some paint stroke survives since the last clear (erasing it all still counts; the
   * export step catches a mask that ends up empty). */
  function hasMask() {
    let painted = false;
    for (const op of maskOperations()) {
      if (op.type === 'clear') painted = false;
      else if ((op.type === 'stroke' && op.mode === 'paint') || op.type === 'maskImage') painted = true;
    }
    return painted;
  }

  function pushOperation(op) {
    // A new edit after undo drops the redo branch.
    state.history.length = state.cursor;
    state.history.push(op);
    state.cursor = state.history.length;
  }

  function undo() {
    if (state.busy || state.stroke || state.cursor === 0) return;
    state.cursor -= 1;
    afterHistoryMove();
  }

  function redo() {
    if (state.busy || state.stroke || state.cursor === state.history.length) return;
    state.cursor += 1;
    afterHistoryMove();
  }

  function afterHistoryMove() {
    if (!lastFill()) state.comparing = false;
    render();
  }

  function clearMask() {
    if (state.busy || !hasMask()) return;
    pushOperation({ type: 'clear' });
    render();
  }

  /** A mask file read by the server's rule: opaque pixels = fill when it has transparency,
   * else white (luminance > 127); added to the painted mask as one undoable step. */
  async function loadMask(file) {
    if (!file || state.busy || !state.base) return;
    clearError();
    let bitmap;
    try {
      bitmap = await decodeImage(file);
    } catch {
      showError(`"${file.name}" could not be read as a mask image. Choose a PNG.`);
      return;
    }
    const { width, height } = state.base;
    if (bitmap.width !== width || bitmap.height !== height) {
      showError(`The mask is ${bitmap.width} × ${bitmap.height} but the photo is ${width} × ${height}; they must match.`);
      return;
    }
    const canvas = bitmapCanvas(bitmap);
    const data = canvas.getContext('2d').getImageData(0, 0, width, height);
    const px = data.data;
    let transparent = false;
    for (let i = 3; i < px.length; i += 4) if (px[i] <= 127) { transparent = true; break; }
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(MASK_COLOUR.slice(i, i + 2), 16));
    let painted = 0;
    for (let i = 0; i < px.length; i += 4) {
      const luminance = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      const on = transparent ? px[i + 3] > 127 : luminance > 127;
      px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = on ? 255 : 0;
      painted += on ? 1 : 0;
    }
    if (!painted) {
      showError(`"${file.name}" marks nothing to fill (white, or opaque where it has transparency, = fill).`);
      return;
    }
    canvas.getContext('2d').putImageData(data, 0, 0);
    pushOperation({ type: 'maskImage', bitmap: await createImageBitmap(canvas) });
    render();
    setStatus(`Mask loaded from "${file.name}". Fill, or paint to change it.`);
  }

  function growPixels() {
    const value = Math.round(Number(els.grow.value));
    return Number.isFinite(value) ? Math.min(64, Math.max(0, value)) : 0;
  }

  // ---------------------------------------------------------------- drawing

  function strokeStyle(ctx, stroke) {
    ctx.globalCompositeOperation = stroke.mode === 'erase' ? 'destination-out' : 'source-over';
    ctx.strokeStyle = MASK_COLOUR;
    ctx.fillStyle = MASK_COLOUR;
    ctx.lineWidth = stroke.size;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
  }

  function drawDot(ctx, stroke, [x, y]) {
    strokeStyle(ctx, stroke);
    ctx.beginPath();
    ctx.arc(x, y, stroke.size / 2, 0, Math.PI * 2);
    ctx.fill();
  }

  function drawSegment(ctx, stroke, [x0, y0], [x1, y1]) {
    strokeStyle(ctx, stroke);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  }

  /** Replays a whole stroke exactly as it was painted live (dot, then segments). */
  function drawStroke(ctx, stroke) {
    const pts = stroke.points;
    drawDot(ctx, stroke, pts[0]);
    for (let i = 1; i < pts.length; i += 1) drawSegment(ctx, stroke, pts[i - 1], pts[i]);
  }

  function redrawMask() {
    maskCtx.globalCompositeOperation = 'source-over';
    maskCtx.clearRect(0, 0, els.mask.width, els.mask.height);
    for (const op of maskOperations()) {
      if (op.type === 'clear') maskCtx.clearRect(0, 0, els.mask.width, els.mask.height);
      else if (op.type === 'stroke') drawStroke(maskCtx, op);
      else if (op.type === 'maskImage') {
        maskCtx.globalCompositeOperation = 'source-over';
        maskCtx.drawImage(op.bitmap, 0, 0);
      }
    }
    if (state.stroke) drawStroke(maskCtx, state.stroke);
  }

  function drawImage(img) {
    if (state.shownImage === img) return;
    imageCtx.clearRect(0, 0, els.image.width, els.image.height);
    imageCtx.drawImage(img.bitmap, 0, 0);
    state.shownImage = img;
  }

  /** Brings both canvases and every control in line with the state. */
  function render() {
    if (state.base) {
      const fill = lastFill();
      drawImage(state.comparing && fill ? fill.before : currentImage());
      redrawMask();
    }
    updateControls();
  }

  // ---------------------------------------------------------------- controls

  function updateControls() {
    const loaded = Boolean(state.base);
    const busy = state.busy;
    const fill = lastFill();
    els.undo.disabled = busy || state.cursor === 0;
    els.redo.disabled = busy || state.cursor === state.history.length;
    els.clear.disabled = busy || !hasMask();
    els.fill.disabled = busy || !loaded || !hasMask();
    els.compare.disabled = busy || !loaded || !hasMask() || els.model.options.length < 2;
    for (const b of [els.zoomIn, els.zoomOut, els.fit]) b.disabled = !loaded;
    els.maskOpen.disabled = busy || !loaded;
    els.model.disabled = busy;

    els.brushBtn.setAttribute('aria-pressed', String(state.tool === 'brush'));
    els.eraserBtn.setAttribute('aria-pressed', String(state.tool === 'erase'));

    els.toggle.disabled = busy || !fill;
    els.toggle.setAttribute('aria-pressed', String(state.comparing && Boolean(fill)));
    els.wrap.classList.toggle('comparing', state.comparing && Boolean(fill));
    els.badge.hidden = !(state.comparing && fill);

    updateDownload(fill);
    els.wrap.classList.toggle('locked', busy);
    els.stage.setAttribute('aria-busy', String(busy));
  }

  function updateDownload(fill) {
    if (fill) {
      els.download.href = objectUrl(fill.after);
      els.download.download = `${stem(state.base.name)}-inpainted.png`;
      els.download.setAttribute('aria-disabled', 'false');
      els.download.removeAttribute('tabindex');
    } else {
      els.download.removeAttribute('href');
      els.download.removeAttribute('download');
      els.download.setAttribute('aria-disabled', 'true');
      els.download.tabIndex = -1;
    }
  }

  function objectUrl(img) {
    if (!img.url) {
      img.url = URL.createObjectURL(img.blob);
      state.objectUrls.push(img.url);
    }
    return img.url;
  }

  function stem(name) {
    const base = (name || 'image').replace(/\.[^./\\]+$/, '');
    return base.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'image';
  }

  function setTool(tool) {
    state.tool = tool;
    updateControls();
    updateCursorShape();
  }

  function setBrushSize(px) {
    const min = Number(els.size.min);
    const max = Number(els.size.max);
    state.size = Math.round(Math.min(max, Math.max(min, px)));
    els.size.value = String(state.size);
    els.sizeValue.textContent = `${state.size} px`;
    updateCursorShape();
  }

  /** Brush sizes are in image pixels; pick a range and default that suit this photo. */
  function adaptBrushRange(width, height) {
    const short = Math.min(width, height);
    const max = Math.max(32, Math.round(short / 3));
    els.size.max = String(max);
    setBrushSize(Math.max(4, Math.round(short / 16)));
  }

  function describeModel(model) {
    if (!model) return '';
    const parts = [model.title || model.name];
    if (model.good_at) parts.push(`good at ${model.good_at}`);
    const shown = (model.headline || []).slice(0, 3).map((h) => {
      const versus = h.best_classical_psnr == null ? '' : ` (classical ${h.best_classical_psnr.toFixed(1)})`;
      return `${h.mask} on ${h.set}: ${h.psnr.toFixed(1)} dB${versus}`;
    });
    if (shown.length) parts.push(`hole PSNR ${shown.join(', ')}`);
    return parts.join(' · ');
  }

  function selectedModel() {
    return config.models.find((m) => m.name === els.model.value);
  }

  function setMaskColour(name) {
    const colour = name in MASK_FILTERS ? name : 'pink';
    els.maskColour.value = colour;
    els.mask.style.filter = MASK_FILTERS[colour];
    safeStorage('set', MASK_COLOUR_KEY, colour);
  }

  function initModels() {
    // Remember the last choice across visits, if that model is still served.
    const saved = safeStorage('get', MODEL_STORAGE_KEY);
    if (saved && [...els.model.options].some((o) => o.value === saved)) els.model.value = saved;
    if (!els.model.options.length) {
      els.model.disabled = true;
      showError('The server lists no models, so nothing can be filled. Check the server configuration.');
    }
    for (const option of els.model.options) {
      const m = config.models.find((x) => x.name === option.value);
      if (m) option.title = describeModel(m);
    }
    els.modelInfo.textContent = describeModel(selectedModel());
    els.model.addEventListener('change', () => {
      els.modelInfo.textContent = describeModel(selectedModel());
      safeStorage('set', MODEL_STORAGE_KEY, els.model.value);
    });
  }

  function safeStorage(op, key, value) {
    try {
      return op === 'get' ? localStorage.getItem(key) : localStorage.setItem(key, value);
    } catch {
      return null; // storage can be disabled (private mode, policies); it's only a convenience
    }
  }

  // ---------------------------------------------------------------- opening images

  async function openFile(file) {
    if (!file || state.busy) return;
    // the same care as closing the tab: a result that was never downloaded is not dropped silently
    if (state.unsaved && !window.confirm('The filled photo has not been downloaded. Open another photo and discard it?')) {
      els.fileInput.value = ''; // so picking that file again later still fires "change"
      return;
    }
    clearError();
    const name = file.name || 'pasted-image.png';
    if (file.type && !file.type.startsWith('image/')) {
      showError(`"${name}" is not an image. Choose a PNG, JPEG or WebP photo.`);
      return;
    }
    if (file.size > maxUploadBytes()) {
      showError(`"${name}" is ${formatMiB(file.size)} MiB; the limit is ${config.max_upload_mb} MiB.`);
      return;
    }
    let bitmap;
    try {
      bitmap = await decodeImage(file);
    } catch {
      showError(`"${name}" could not be read as an image. Choose a PNG, JPEG or WebP photo.`);
      return;
    }
    try {
      const prepared = await prepareUpload(file, bitmap, name);
      setBase({ ...prepared, name });
    } catch (err) {
      showError(err.message);
    }
  }

  /** Decodes without colour management: the server works on the stored pixel values and
   * writes results without a colour profile, so showing stored values keeps the photo, the
   * result and the before/after comparison consistent (and the mask aligned in colour too). */
  function decodeImage(blob) {
    return createImageBitmap(blob, { colorSpaceConversion: 'none' });
  }

  /** Makes sure what we will upload is something the server accepts: within the pixel limit
   * and in a format it decodes. Otherwise the photo is re-encoded as PNG (and downscaled). */
  async function prepareUpload(file, bitmap, name) {
    const pixels = bitmap.width * bitmap.height;
    const maxPixels = Number(config.max_pixels);
    let notice = '';
    if (pixels > maxPixels) {
      const scale = Math.sqrt(maxPixels / pixels);
      const w = Math.max(1, Math.floor(bitmap.width * scale));
      const h = Math.max(1, Math.floor(bitmap.height * scale));
      notice = `Resized from ${bitmap.width} × ${bitmap.height} to ${w} × ${h} to fit the ${formatMP(maxPixels)} MP limit.`;
      bitmap = await resizeBitmap(bitmap, w, h);
    } else if (ACCEPTED_TYPES.includes(file.type)) {
      return { bitmap, blob: file, width: bitmap.width, height: bitmap.height, notice };
    }
    // Lossless, even when larger than the upload limit: fills then send only a crop around the
    // mask (see buildForm), so a phone photo stays fillable, round after round.
    const blob = await canvasToBlob(bitmapCanvas(bitmap), 'image/png');
    return { bitmap, blob, width: bitmap.width, height: bitmap.height, notice };
  }

  function bitmapCanvas(bitmap, w = bitmap.width, h = bitmap.height) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w, h);
    return canvas;
  }

  async function resizeBitmap(bitmap, w, h) {
    return createImageBitmap(bitmapCanvas(bitmap, w, h));
  }

  function canvasToBlob(canvas, type) {
    return new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('Could not encode the image.'))), type);
    });
  }

  function setBase(img) {
    for (const url of state.objectUrls) URL.revokeObjectURL(url);
    state.objectUrls = [];
    state.base = img;
    state.history = [];
    state.cursor = 0;
    state.comparing = false;
    state.shownImage = null;
    state.unsaved = false;

    // Full-resolution canvases: every mask pixel corresponds to exactly one photo pixel.
    els.image.width = els.mask.width = img.width;
    els.image.height = els.mask.height = img.height;
    els.dropzone.hidden = true;
    els.wrap.hidden = false;

    adaptBrushRange(img.width, img.height);
    state.fitMode = true;
    fitToStage();
    render();
    setStatus(
      `${img.name} · ${img.width} × ${img.height}. Paint over what should be removed, then press Fill.` +
        (img.notice ? ` ${img.notice}` : ''),
    );
  }

  function chooseFile() {
    if (state.busy) return;
    els.fileInput.value = ''; // so picking the same file again still fires "change"
    els.fileInput.click();
  }

  // ---------------------------------------------------------------- zoom and pan

  function fitZoom() {
    if (!state.base) return 1;
    const style = getComputedStyle(els.stage);
    // 2 px of slack so rounding can never add scrollbars (which would shrink the stage and refit).
    const w = els.stage.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 2;
    const h = els.stage.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom) - 2;
    return Math.max(MIN_ZOOM, Math.min(w / state.base.width, h / state.base.height, MAX_FIT_ZOOM));
  }

  function applyZoom() {
    if (!state.base) return;
    els.wrap.style.width = `${state.base.width * state.zoom}px`;
    els.wrap.style.height = `${state.base.height * state.zoom}px`;
    els.zoomLevel.textContent = `${Math.round(state.zoom * 100)}%`;
    els.fit.setAttribute('aria-label', `Zoom to fit (now ${Math.round(state.zoom * 100)}%)`);
    updateCursorShape();
  }

  function fitToStage() {
    state.fitMode = true;
    state.zoom = fitZoom();
    applyZoom();
  }

  /** Zooms keeping the image point under (clientX, clientY) where it is on screen. */
  function zoomAt(zoom, clientX, clientY, imagePoint) {
    if (!state.base) return;
    const before = els.wrap.getBoundingClientRect();
    const point = imagePoint || [(clientX - before.left) / state.zoom, (clientY - before.top) / state.zoom];
    state.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
    state.fitMode = false;
    applyZoom();
    const after = els.wrap.getBoundingClientRect(); // forces layout with the new size
    els.stage.scrollLeft += after.left + point[0] * state.zoom - clientX;
    els.stage.scrollTop += after.top + point[1] * state.zoom - clientY;
  }

  /** Step zoom; a step that crosses 100 % stops there, so 1:1 (every photo pixel one screen
   * pixel, how fills should be judged) is always reachable with the buttons and keys. */
  function zoomBy(factor) {
    const r = els.stage.getBoundingClientRect();
    const next = state.zoom * factor;
    const crosses = (state.zoom < 1 && next > 1) || (state.zoom > 1 && next < 1);
    zoomAt(crosses ? 1 : next, r.left + r.width / 2, r.top + r.height / 2);
  }

  function zoomActualSize() {
    const r = els.stage.getBoundingClientRect();
    zoomAt(1, r.left + r.width / 2, r.top + r.height / 2);
  }

  // ---------------------------------------------------------------- painting (Pointer Events)

  /** Client coordinates -> image pixels, whatever the CSS scale of the canvas. */
  function toImage(e) {
    const rect = els.mask.getBoundingClientRect();
    return [
      ((e.clientX - rect.left) * els.mask.width) / rect.width,
      ((e.clientY - rect.top) * els.mask.height) / rect.height,
    ];
  }

  function onPointerDown(e) {
    if (!state.base || state.busy) return;
    if (e.target.closest('button, .busy, .empty, .drop-overlay')) return; // controls on the stage

    if (e.pointerType === 'mouse' && e.button !== 0 && e.button !== 1) return;
    e.preventDefault();
    // Painting is a pointer activity: drop focus from the last clicked control so keys such as
    // Space (pan) are not swallowed by it, without drawing a focus ring on the canvas.
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    els.stage.setPointerCapture(e.pointerId);
    state.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });

    if (state.comparing) {
      state.comparing = false; // painting edits the result, so show it
      render();
    }
    if (e.button === 1 || state.spaceHeld) {
      startPan(e);
    } else if (state.pointers.size === 2 && e.pointerType === 'touch') {
      // A second finger soon after the first means the first began a pinch, not a stroke;
      // a stroke already under way is kept.
      if (state.stroke && performance.now() - state.stroke.started < PINCH_GRACE_MS) cancelStroke();
      else if (state.stroke) commitStroke();
      startPinch();
    } else if (state.pointers.size === 1) {
      startStroke(e);
    }
  }

  function onPointerMove(e) {
    moveBrushCursor(e);
    if (!state.pointers.has(e.pointerId)) return;
    state.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (state.gesture) {
      updateGesture(e);
    } else if (state.stroke && state.stroke.pointerId === e.pointerId) {
      // Coalesced events keep fast strokes smooth where the browser batches moves.
      const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      for (const ev of events.length ? events : [e]) extendStroke(toImage(ev));
    }
  }

  function onPointerUp(e) {
    if (!state.pointers.has(e.pointerId)) return;
    state.pointers.delete(e.pointerId);
    if (state.stroke && state.stroke.pointerId === e.pointerId) {
      if (e.type === 'pointercancel') cancelStroke();
      else commitStroke();
    }
    if (state.gesture && (state.gesture.kind === 'pan' || state.pointers.size < 2)) {
      state.gesture = null;
      els.stage.classList.remove('panning');
    }
  }

  function startStroke(e) {
    const point = toImage(e);
    state.stroke = {
      type: 'stroke',
      mode: state.tool === 'erase' ? 'erase' : 'paint',
      size: state.size,
      points: [point],
      pointerId: e.pointerId,
      started: performance.now(),
    };
    drawDot(maskCtx, state.stroke, point);
  }

  function extendStroke(point) {
    const pts = state.stroke.points;
    const last = pts[pts.length - 1];
    if (Math.hypot(point[0] - last[0], point[1] - last[1]) < 0.5) return; // sub-pixel jitter
    pts.push(point);
    drawSegment(maskCtx, state.stroke, last, point);
  }

  function commitStroke() {
    const { type, mode, size, points } = state.stroke;
    state.stroke = null;
    pushOperation({ type, mode, size, points });
    updateControls();
  }

  function cancelStroke() {
    if (!state.stroke) return;
    state.stroke = null;
    redrawMask();
  }

  function startPan() {
    const [p] = state.pointers.values();
    state.gesture = { kind: 'pan', x: p.x, y: p.y };
    els.stage.classList.add('panning');
  }

  function startPinch() {
    const [a, b] = state.pointers.values();
    const rect = els.wrap.getBoundingClientRect();
    const mid = [(a.x + b.x) / 2, (a.y + b.y) / 2];
    state.gesture = {
      kind: 'pinch',
      distance: Math.hypot(a.x - b.x, a.y - b.y) || 1,
      zoom: state.zoom,
      // the image point under the fingers' midpoint stays under it while pinching
      point: [(mid[0] - rect.left) / state.zoom, (mid[1] - rect.top) / state.zoom],
    };
  }

  function updateGesture(e) {
    const g = state.gesture;
    if (g.kind === 'pan') {
      els.stage.scrollLeft -= e.clientX - g.x;
      els.stage.scrollTop -= e.clientY - g.y;
      g.x = e.clientX;
      g.y = e.clientY;
      return;
    }
    const [a, b] = state.pointers.values();
    const distance = Math.hypot(a.x - b.x, a.y - b.y);
    zoomAt((g.zoom * distance) / g.distance, (a.x + b.x) / 2, (a.y + b.y) / 2, g.point);
  }

  function onWheel(e) {
    // Ctrl+wheel (and trackpad pinch, which browsers report as Ctrl+wheel) zooms at the pointer.
    if (!state.base || !(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    zoomAt(state.zoom * Math.exp(-e.deltaY * 0.0025), e.clientX, e.clientY);
  }

  // ---------------------------------------------------------------- brush cursor

  function moveBrushCursor(e) {
    if (e.pointerType === 'touch' || !state.base) {
      hideBrushCursor();
      return;
    }
    const d = displayedBrushDiameter();
    els.cursor.hidden = false;
    els.cursor.style.transform = `translate(${e.clientX - d / 2}px, ${e.clientY - d / 2}px)`;
    els.stage.classList.add('hide-cursor');
  }

  function hideBrushCursor() {
    els.cursor.hidden = true;
    els.stage.classList.remove('hide-cursor');
  }

  function displayedBrushDiameter() {
    const rect = els.mask.getBoundingClientRect();
    const scale = els.mask.width ? rect.width / els.mask.width : 1;
    return Math.max(4, state.size * scale);
  }

  function updateCursorShape() {
    const d = displayedBrushDiameter();
    els.cursor.style.width = `${d}px`;
    els.cursor.style.height = `${d}px`;
    els.cursor.classList.toggle('erase', state.tool === 'erase');
  }

  // ---------------------------------------------------------------- fill (POST /inpaint)

  /** The mask at full image resolution, binarised so the server sees exactly what is shown:
   * opaque white where painted, transparent elsewhere. Null when nothing is painted. */
  async function exportMask(region = [0, 0, els.mask.width, els.mask.height]) {
    const [left, top, width, height] = region;
    const data = maskCtx.getImageData(left, top, width, height);
    const px = data.data;
    let painted = 0;
    for (let i = 0; i < px.length; i += 4) {
      const on = px[i + 3] > 127 ? 255 : 0;
      px[i] = px[i + 1] = px[i + 2] = px[i + 3] = on;
      painted += on & 1;
    }
    if (!painted) return null;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d').putImageData(data, 0, 0);
    return canvasToBlob(canvas, 'image/png');
  }

  async function fill() {
    if (state.busy || !state.base || state.stroke) return;
    clearError();
    if (!hasMask()) {
      showError('Paint over the area to fill first.');
      return;
    }
    const image = currentImage();
    const model = els.model.value;
    const focusBefore = document.activeElement;
    setBusy(true); // already here: exporting the mask of a big photo takes a moment too
    const started = performance.now();
    try {
      commitFill(image, await fillWith(image, model), model);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      setStatus(
        `Filled with ${model || 'the default model'} in ${seconds} s. Paint again to refine, ` +
          'undo to try another model on the same mask, or download.',
      );
    } catch (err) {
      if (err.name === 'AbortError') setStatus('Fill cancelled.');
      else showError(err.message);
    } finally {
      setBusy(false);
      render();
      restoreFocus(focusBefore);
    }
  }

  /** One fill of the current mask on ``image`` with ``model``: the whole filled photo. */
  async function fillWith(image, model) {
    const { form, region } = await buildForm(image, model);
    const filled = await requestFill(form, { width: region[2], height: region[3] });
    return pasteRegion(image, filled, region);
  }

  /** A fill becomes the next step of the history (undo brings the mask back) and is shown. */
  function commitFill(image, after, model) {
    pushOperation({ type: 'fill', before: image, after, model });
    state.comparing = false;
    state.unsaved = true;
  }

  /** The multipart body of POST /inpaint, after the checks the server would make anyway.
   *
   * The whole photo is sent when it fits the upload limit (the original file's bytes while the
   * photo is unchanged). A larger one (a phone photo re-encoded losslessly, or a filled result
   * kept as PNG) is sent as a crop around the mask with context on every side; the server only
   * changes masked pixels, so pasting the filled crop back is exact. Returns the form and the
   * region it covers. */
  async function buildForm(image, model) {
    let region = [0, 0, image.width, image.height];
    let mask = await exportMask(region);
    if (!mask) throw new Error('The mask is empty: paint over the area to fill first.');
    let imageBlob = image.blob;
    if (imageBlob.size + mask.size > maxUploadBytes()) {
      region = cropAroundMask(image);
      imageBlob = await canvasToBlob(cropCanvas(image.bitmap, region), 'image/png');
      mask = await exportMask(region);
    }
    const total = imageBlob.size + mask.size;
    if (total > maxUploadBytes()) {
      throw new Error(
        `The upload would be ${formatMiB(total)} MiB (image and mask) even cropped to the mask; the server accepts ` +
          `${config.max_upload_mb} MiB. Fill smaller areas one at a time.`,
      );
    }
    const form = new FormData();
    form.append('image', imageBlob, uploadName(image));
    form.append('mask', mask, 'mask.png');
    if (model) form.append('model', model);
    if (growPixels() > 0) form.append('grow', String(growPixels()));
    form.append('format', 'png'); // lossless, so iterating never degrades the untouched pixels
    return { form, region };
  }

  /** [left, top, width, height] around the mask with as much context on each side as the
   * mask is large (at least 128 px), which is what the server's windows look at. */
  function cropAroundMask(image) {
    const [x0, y0, x1, y1] = maskBounds();
    const margin = Math.max(128, x1 - x0, y1 - y0) + growPixels();
    const left = Math.max(0, x0 - margin);
    const top = Math.max(0, y0 - margin);
    return [left, top, Math.min(image.width, x1 + margin) - left, Math.min(image.height, y1 + margin) - top];
  }

  function cropCanvas(bitmap, [left, top, width, height]) {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d').drawImage(bitmap, left, top, width, height, 0, 0, width, height);
    return canvas;
  }

  /** The filled region pasted into the whole photo, as a new lossless image. */
  async function pasteRegion(image, filled, [left, top, width, height]) {
    if (left === 0 && top === 0 && width === image.width && height === image.height) return filled;
    const canvas = bitmapCanvas(image.bitmap);
    canvas.getContext('2d').drawImage(filled.bitmap, left, top);
    const blob = await canvasToBlob(canvas, 'image/png');
    const bitmap = await decodeImage(blob);
    return { bitmap, blob, width: image.width, height: image.height };
  }

  /** Resolves after ``ms``, or rejects with an AbortError when the fill is cancelled. */
  function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new DOMException('Fill cancelled', 'AbortError'));
      });
    });
  }

  /** Sends the request; resolves to the filled image, or throws an Error a person can read. */
  async function requestFill(form, image) {
    let response;
    for (let attempt = 1; ; attempt += 1) {
      try {
        response = await fetch('inpaint', { method: 'POST', body: form, signal: state.abort.signal });
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        throw new Error('Fill failed: could not reach the server (network error). Check the connection and try again.');
      }
      // A busy server answers 503 with Retry-After at once: wait as it asks and try again.
      if (response.status !== 503 || attempt >= BUSY_RETRIES) break;
      const seconds = Math.min(30, Math.max(1, Number(response.headers.get('Retry-After')) || 1));
      setStatus(`The server is busy; trying again in ${seconds} s (attempt ${attempt + 1} of ${BUSY_RETRIES})…`);
      await sleep(seconds * 1000, state.abort.signal);
    }
    if (!response.ok) throw new Error(`Fill failed: ${await describeHttpError(response)}`);
    const blob = await response.blob();
    let bitmap;
    try {
      bitmap = await decodeImage(blob);
    } catch {
      throw new Error('Fill failed: the server sent back something that is not an image.');
    }
    if (bitmap.width !== image.width || bitmap.height !== image.height) {
      throw new Error(
        `Fill failed: the server returned a ${bitmap.width} × ${bitmap.height} image for a ${image.width} × ${image.height} photo.`,
      );
    }
    return { bitmap, blob, width: bitmap.width, height: bitmap.height };
  }

  function uploadName(image) {
    if (image !== state.base) return `${stem(state.base.name)}-inpainted.png`;
    const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }[image.blob.type] || 'png';
    return `${stem(image.name)}.${ext}`;
  }

  /** Turns an error response into one readable sentence: FastAPI's {"detail": ...} (a string,
   * or a list of validation errors), else the status line. */
  async function describeHttpError(response) {
    let detail = '';
    try {
      const body = await response.clone().json();
      detail = body && body.detail;
      if (Array.isArray(detail)) {
        detail = detail.map((d) => (d && d.msg ? `${(d.loc || []).slice(-1)[0] || 'request'}: ${d.msg}` : String(d))).join('; ');
      } else if (detail && typeof detail === 'object') {
        detail = JSON.stringify(detail);
      }
    } catch {
      detail = (await response.text().catch(() => '')).trim().slice(0, 300);
    }
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    return detail ? `${detail} (${status})` : `the server answered ${status}.`;
  }

  function setBusy(busy) {
    state.busy = busy;
    state.abort = busy ? new AbortController() : null;
    els.spinner.hidden = !busy;
    if (busy) {
      hideBrushCursor();
      els.cancel.focus({ preventScroll: true });
    }
    updateControls();
  }

  /** After a fill, focus returns where it was; if that control is now disabled (Fill, with the
   * mask cleared), it goes to the next useful step: Download. */
  function restoreFocus(previous) {
    const usable = (el) => el && el !== document.body && el.isConnected && !el.disabled && !el.closest('[hidden]');
    const target = usable(previous) && previous !== els.cancel ? previous : lastFill() ? els.download : null;
    if (target) target.focus({ preventScroll: true });
    else if (document.activeElement === els.cancel) els.cancel.blur();
  }

  // ---------------------------------------------------------------- compare models

  /** Bounding box [x0, y0, x1, y1) of the painted mask, or null. */
  function maskBounds() {
    const { width, height } = els.mask;
    const px = maskCtx.getImageData(0, 0, width, height).data;
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        if (px[(y * width + x) * 4 + 3] > 127) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
  }

  /** Fills the same mask with every model, one request after another, then shows the results
   * side by side around the mask at 1:1 (panels scroll together); the one kept becomes a fill. */
  async function compareModels() {
    if (state.busy || !state.base || state.stroke) return;
    clearError();
    const bounds = maskBounds();
    if (!hasMask() || !bounds) {
      showError('Paint over the area to fill first.');
      return;
    }
    const image = currentImage();
    const models = [...els.model.options].map((o) => ({ name: o.value, title: o.textContent }));
    const focusBefore = document.activeElement;
    setBusy(true);
    const results = [];
    try {
      for (const [i, model] of models.entries()) {
        setStatus(`Filling with ${model.title} (${i + 1} of ${models.length})…`);
        const started = performance.now();
        try {
          const after = await fillWith(image, model.name);
          results.push({ ...model, after, seconds: (performance.now() - started) / 1000 });
        } catch (err) {
          if (err.name === 'AbortError') throw err;
          results.push({ ...model, error: err.message });
        }
      }
    } catch (err) {
      setStatus('Comparison cancelled.');
      return;
    } finally {
      setBusy(false);
      render();
      restoreFocus(focusBefore);
    }
    setStatus(`Compared ${models.length} models on the same mask. Keep one, or close to keep painting.`);
    showComparison(image, results, bounds);
  }

  function showComparison(image, results, [x0, y0, x1, y1]) {
    const margin = 48;
    const left = Math.max(0, x0 - margin);
    const top = Math.max(0, y0 - margin);
    const w = Math.min(image.width, x1 + margin) - left;
    const h = Math.min(image.height, y1 + margin) - top;
    els.compareGrid.replaceChildren();
    const panes = [];
    for (const result of results) {
      const figure = document.createElement('figure');
      figure.className = 'compare-item';
      figure.dataset.model = result.name;
      const caption = document.createElement('figcaption');
      caption.textContent = result.error
        ? `${result.title}: failed`
        : `${result.title} · ${result.seconds.toFixed(1)} s`;
      const pane = document.createElement('div');
      pane.className = 'compare-pane';
      if (result.error) {
        pane.textContent = result.error;
      } else {
        const canvas = document.createElement('canvas');
        canvas.width = w;
        canvas.height = h;
        canvas.style.width = `${w}px`; // 1:1: one photo pixel, one CSS pixel
        canvas.getContext('2d').drawImage(result.after.bitmap, left, top, w, h, 0, 0, w, h);
        pane.append(canvas);
        panes.push(pane);
      }
      figure.append(caption, pane);
      if (!result.error) {
        const keep = document.createElement('button');
        keep.type = 'button';
        keep.className = 'btn primary';
        keep.textContent = 'Keep this';
        keep.addEventListener('click', () => {
          commitFill(image, result.after, result.name);
          els.compareDialog.close();
          render();
          setStatus(`Kept the fill by ${result.title}. Paint again to refine, or download.`);
        });
        figure.append(keep);
      }
      els.compareGrid.append(figure);
    }
    // synced panning: scrolling one panel scrolls all to the same photo position
    let syncing = false;
    for (const pane of panes) {
      pane.addEventListener('scroll', () => {
        if (syncing) return;
        syncing = true;
        for (const other of panes) {
          if (other !== pane) {
            other.scrollLeft = pane.scrollLeft;
            other.scrollTop = pane.scrollTop;
          }
        }
        syncing = false;
      });
    }
    if (typeof els.compareDialog.showModal === 'function') els.compareDialog.showModal();
    else els.compareDialog.setAttribute('open', '');
  }

  // ---------------------------------------------------------------- compare and download

  function toggleCompare(force) {
    if (!lastFill() || state.busy) return;
    state.comparing = typeof force === 'boolean' ? force : !state.comparing;
    render();
  }

  function download() {
    if (els.download.getAttribute('aria-disabled') === 'true') return;
    els.download.click();
  }

  // ---------------------------------------------------------------- keyboard

  function isTypingTarget(el) {
    if (!el) return false;
    if (el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable) return true;
    return el.tagName === 'INPUT' && el.type !== 'range' && el.type !== 'file';
  }

  function onKeyDown(e) {
    if (els.shortcuts.open || els.compareDialog.open) return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (e.ctrlKey || e.metaKey) {
      const actions = {
        z: () => (e.shiftKey ? redo() : undo()),
        y: redo,
        Enter: fill,
        o: chooseFile,
        s: download,
      };
      if (actions[key] && !e.altKey) {
        e.preventDefault();
        actions[key]();
      }
      return;
    }
    if (e.altKey || isTypingTarget(e.target)) return;
    // Space pans when nothing has focus, and whenever the pointer is over the photo: right
    // after Fill the focus sits on Download, and "fill, zoom, pan to inspect" must not turn
    // into a stroke (or a click on the focused button).
    if (key === ' ' && (e.target === document.body || state.pointerOverStage)) {
      e.preventDefault();
      state.spaceHeld = true;
      return;
    }
    const actions = {
      b: () => setTool('brush'),
      e: () => setTool('erase'),
      '[': () => setBrushSize(state.size * 0.85 - 1),
      ']': () => setBrushSize(state.size * 1.15 + 1),
      '+': () => zoomBy(1.25),
      '=': () => zoomBy(1.25),
      '-': () => zoomBy(0.8),
      0: fitToStage,
      1: zoomActualSize,
      c: () => toggleCompare(),
      Delete: clearMask,
      Backspace: clearMask,
      '?': openShortcuts,
    };
    if (actions[key]) {
      e.preventDefault();
      actions[key]();
    }
  }

  function onKeyUp(e) {
    if (e.key !== ' ') return;
    // a focused button activates on Space's keyup: not when the Space was a pan
    if (state.spaceHeld) e.preventDefault();
    state.spaceHeld = false;
  }

  function openShortcuts() {
    if (typeof els.shortcuts.showModal === 'function') els.shortcuts.showModal();
    else els.shortcuts.setAttribute('open', '');
  }

  // ---------------------------------------------------------------- drag and drop, paste

  function hasFiles(e) {
    return Boolean(e.dataTransfer) && [...e.dataTransfer.types].includes('Files');
  }

  let dragDepth = 0; // dragenter/leave fire for every child; count to know when we really left

  function onDragEnter(e) {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth += 1;
    els.dropOverlay.hidden = false;
  }

  function onDragOver(e) {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  }

  function onDragLeave(e) {
    if (!hasFiles(e)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) els.dropOverlay.hidden = true;
  }

  function onDrop(e) {
    if (!hasFiles(e)) return;
    e.preventDefault(); // otherwise the browser navigates to the dropped file
    dragDepth = 0;
    els.dropOverlay.hidden = true;
    openFile(e.dataTransfer.files[0]);
  }

  function onPaste(e) {
    if (isTypingTarget(e.target)) return;
    const items = e.clipboardData ? [...e.clipboardData.items] : [];
    const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (item) {
      e.preventDefault();
      openFile(item.getAsFile());
    } else if (items.some((i) => i.kind === 'file')) {
      showError('The clipboard holds a file that is not an image.');
    }
  }

  // ---------------------------------------------------------------- wiring

  function bind() {
    els.fileInput.addEventListener('change', () => openFile(els.fileInput.files[0]));
    els.emptyOpenBtn.addEventListener('click', chooseFile);
    // The Open label is keyboard-focusable; make Enter/Space open the picker like a button.
    els.openBtn.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        chooseFile();
      }
    });
    els.openBtn.addEventListener('click', (e) => {
      if (state.busy) e.preventDefault();
      else els.fileInput.value = '';
    });

    els.brushBtn.addEventListener('click', () => setTool('brush'));
    els.eraserBtn.addEventListener('click', () => setTool('erase'));
    els.size.addEventListener('input', () => setBrushSize(Number(els.size.value)));
    els.undo.addEventListener('click', undo);
    els.redo.addEventListener('click', redo);
    els.clear.addEventListener('click', clearMask);
    els.zoomIn.addEventListener('click', () => zoomBy(1.25));
    els.zoomOut.addEventListener('click', () => zoomBy(0.8));
    els.fit.addEventListener('click', fitToStage);
    els.fill.addEventListener('click', fill);
    els.compare.addEventListener('click', compareModels);
    els.compareClose.addEventListener('click', () => els.compareDialog.close());
    els.cancel.addEventListener('click', () => state.abort && state.abort.abort());
    els.toggle.addEventListener('click', () => toggleCompare());
    els.download.addEventListener('click', (e) => {
      if (els.download.getAttribute('aria-disabled') === 'true') e.preventDefault();
      else state.unsaved = false;
    });
    els.errorClose.addEventListener('click', clearError);
    els.shortcutsBtn.addEventListener('click', openShortcuts);

    // The whole stage takes strokes, so one can start in the margin beside the photo (objects
    // at the border); the canvas clips them to the photo.
    els.stage.addEventListener('pointerdown', onPointerDown);
    els.stage.addEventListener('pointermove', onPointerMove);
    els.stage.addEventListener('pointerup', onPointerUp);
    els.stage.addEventListener('pointercancel', onPointerUp);
    els.stage.addEventListener('lostpointercapture', onPointerUp); // e.g. the window lost focus mid-stroke
    els.stage.addEventListener('pointerleave', hideBrushCursor);
    els.mask.addEventListener('contextmenu', (e) => e.preventDefault());
    els.stage.addEventListener('wheel', onWheel, { passive: false });

    els.stage.addEventListener('pointerenter', () => (state.pointerOverStage = true));
    els.stage.addEventListener('pointerleave', () => (state.pointerOverStage = false));
    document.addEventListener('keydown', onKeyDown);
    document.addEventListener('keyup', onKeyUp);
    window.addEventListener('blur', () => (state.spaceHeld = false));
    document.addEventListener('paste', onPaste);
    window.addEventListener('dragenter', onDragEnter);
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('dragleave', onDragLeave);
    window.addEventListener('drop', onDrop);
    window.addEventListener('beforeunload', (e) => {
      if (!state.unsaved) return; // only a fill result that was never downloaded is worth a prompt
      e.preventDefault();
      e.returnValue = '';
    });

    new ResizeObserver(() => {
      if (state.fitMode) fitToStage();
      else updateCursorShape();
    }).observe(els.stage);
  }

  /** Read-only snapshot for tests and debugging; behaviour is checked through the DOM. */
  Object.defineProperty(window, 'editorState', {
    get: () =>
      Object.freeze({
        width: state.base ? state.base.width : 0,
        height: state.base ? state.base.height : 0,
        zoom: state.zoom,
        tool: state.tool,
        brushSize: state.size,
        busy: state.busy,
        canUndo: state.cursor > 0,
        canRedo: state.cursor < state.history.length,
        fills: state.history.slice(0, state.cursor).filter((op) => op.type === 'fill').length,
        unsaved: state.unsaved,
      }),
  });

  initModels();
  setMaskColour(safeStorage('get', MASK_COLOUR_KEY));
  els.maskColour.addEventListener('change', () => setMaskColour(els.maskColour.value));
  els.maskOpen.addEventListener('click', () => {
    els.maskInput.value = ''; // so loading the same file again still fires "change"
    els.maskInput.click();
  });
  els.maskInput.addEventListener('change', () => loadMask(els.maskInput.files[0]));
  bind();
  setBrushSize(state.size);
  updateControls();
})();
