/**
 * A progress bar for long commands (bench nab, demo), drawn in place on a
 * terminal only: piped or redirected output (scripts, CI logs) gets the plain
 * lines and no carriage-return noise.
 */
export interface ProgressBar {
  /** Redraws with `done` of `total` and a short note; cheap to call often (redraws at most every 100 ms). */
  update(done: number, total: number, note?: string): void;
  /** Prints a line above the bar (the bar is redrawn below it). */
  log(line: string): void;
  /** Clears the bar. */
  done(): void;
}

const WIDTH = 28;

/** The bar's text: `[#######.............]  35%  7/20 note`. */
export function renderBar(done: number, total: number, note = '', columns = 100): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(share * WIDTH);
  const text = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${done}/${total}${note ? `  ${note}` : ''}`;
  return text.slice(0, Math.max(10, columns - 1));
}

/** A bar on `stream` when `enabled`; `log` lines go through `print` (default: to the stream). */
export function progressBar(
  stream: NodeJS.WriteStream = process.stdout,
  enabled = stream.isTTY === true,
  print: (line: string) => void = (line) => stream.write(`${line}\n`),
): ProgressBar {
  let shown = '';
  let lastDraw = 0;
  const clear = () => {
    if (shown) stream.write('\r\x1b[K');
  };
  return {
    update(done, total, note) {
      if (!enabled) return;
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      shown = renderBar(done, total, note, stream.columns ?? 100);
      stream.write(`\r\x1b[K${shown}`);
    },
    log(line) {
      if (enabled) clear();
      print(line);
      if (enabled && shown) stream.write(shown);
    },
    done() {
      if (enabled) clear();
      shown = '';
    },
  };
}
