/* A label with the time since something began ("Uploading… 1.2 s"), shown again every tenth
 * of a second: how the editor says what it is doing while a photo opens or a fill runs.
 */

const TICK_MS = 100;

/** A ticker that calls ``show(label, seconds)`` (seconds as text, one decimal) now and then
 * every tick, from ``stage(label)`` until ``stop()``; the time counts from its creation. */
export function ticker(show) {
  const started = performance.now();
  let label = '';
  let timer = null;
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const tick = () => show(label, seconds());
  return {
    stage(next) {
      label = next;
      tick();
      if (timer === null) timer = setInterval(tick, TICK_MS);
    },
    stop() {
      clearInterval(timer);
      timer = null;
    },
    seconds,
  };
}
