/**
 * Following a run until it ends (`watch`, `start --wait`): each state as it is entered, with its
 * time since the run started (from the execution history), and the live progress. On a terminal
 * a progress bar (cli-progress) redraws in place; otherwise a plain line is printed when the
 * progress changed, at most every 10 seconds, so logs stay readable.
 */

import type { SFNClient } from '@aws-sdk/client-sfn';
import { MultiBar, Presets } from 'cli-progress';
import { formatSeconds } from '../shared/cost/estimate.js';
import { statesEnteredSince } from '../shared/sfn/executions.js';
import { FINAL_STATUSES } from '../shared/transfers/records.js';
import type { TransferView } from '../shared/transfers/view.js';
import { colorOn, note } from './output.js';
import { progressLine } from './render.js';

export interface WatchOptions {
  sfn: SFNClient;
  /** Reads the run's view (shared/transfers/view.ts getTransfer). */
  view: () => Promise<TransferView>;
  /** Print nothing while following (--json prints the final view only). */
  quiet: boolean;
  intervalMs?: number;
  /** Seconds between plain progress lines when stderr is not a terminal. */
  plainEverySeconds?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `+1m 05s` since `base`. */
function offset(at: Date | undefined, base: number): string {
  const seconds = at ? Math.max(0, (at.getTime() - base) / 1000) : 0;
  return `+${formatSeconds(seconds)}`.padStart(8);
}

/**
 * Follows a run until its status is final.
 * @returns the final view.
 */
export async function watchTransfer(options: WatchOptions): Promise<TransferView> {
  const tty = Boolean(process.stderr.isTTY) && !options.quiet;
  const plainEvery = (options.plainEverySeconds ?? 10) * 1000;
  let bars: MultiBar | undefined;
  let bar: ReturnType<MultiBar['create']> | undefined;
  let lastId = 0;
  let lastPlain = 0;
  let lastPlainText = '';
  const log = (line: string) => {
    if (options.quiet) return;
    if (bars) bars.log(`${line}\n`);
    else note(line);
  };
  try {
    for (;;) {
      const view = await options.view();
      const base = Date.parse(view.createdAt ?? '') || Date.now();
      const done = FINAL_STATUSES.has(view.status);
      if (done && bars) {
        // The bar only prints logged lines when it redraws: stop it before the last states.
        bars.stop();
        bars = undefined;
      }
      if (view.executionArn) {
        const entered = await statesEnteredSince(options.sfn, view.executionArn, lastId);
        lastId = entered.lastId;
        for (const state of entered.states) log(`${offset(state.timestamp, base)}  ${state.state}`);
      }
      const detail = progressLine(view.progress) ?? '';
      const where = view.currentState ?? view.status;
      if (tty && !done) {
        const total = view.progress.totalBytes || view.progress.totalFiles || 1;
        const value = view.progress.totalBytes ? (view.progress.bytes ?? 0) : (view.progress.files ?? 0);
        const payload = { where, detail, elapsed: formatSeconds(view.elapsedSeconds ?? 0) };
        if (!bars) {
          bars = new MultiBar(
            {
              stream: process.stderr,
              format: `  {bar} {percentage}% | {where} | {detail} | {elapsed}`,
              barsize: 20,
              hideCursor: true,
              clearOnComplete: true,
              autopadding: true,
              // No colour codes of its own; the bar characters are plain.
              formatValue: (v) => String(v),
              ...(colorOn(process.stderr) ? {} : { barCompleteChar: '#', barIncompleteChar: '-' }),
            },
            Presets.shades_classic,
          );
          bar = bars.create(total, Math.min(value, total), payload);
        } else {
          bar?.setTotal(total);
          bar?.update(Math.min(value, total), payload);
        }
      } else if (
        !tty &&
        !options.quiet &&
        !done &&
        detail &&
        detail !== lastPlainText &&
        view.progress.files
      ) {
        if (Date.now() - lastPlain >= plainEvery) {
          note(`${offset(new Date(), base)}  ${where}: ${detail}`);
          lastPlain = Date.now();
          lastPlainText = detail;
        }
      }
      if (done) return view;
      await sleep(options.intervalMs ?? 2000);
    }
  } finally {
    bars?.stop();
  }
}
