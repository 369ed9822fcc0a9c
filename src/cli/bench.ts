/** `vigil bench nab`: the detection-quality benchmark (bench/nab), with a progress bar on a terminal. */
import { resolve } from 'node:path';
import { BENCH_USAGE, benchNab, parseFileSelection, planRuns } from '../../bench/nab/cli.ts';
import { defaultNabDir } from '../../bench/nab/loader.ts';
import { NabScoringError } from '../../bench/nab/scorer.ts';
import { BadUserInputError } from '../core/errors.ts';
import { stringOption, UsageError } from './args.ts';
import type { Command } from './command.ts';
import { progressBar } from './progress.ts';

/** bench/nab reports per-file progress as text ("ZSCORE 7/58 files, ..."); the bar reads the counts from it. */
const FILES_DONE = /^bench nab: (\S+) (\d+)\/(\d+) files/;

export const benchCommands: Command[] = [
  {
    words: ['bench', 'nab'],
    summary: "Score Vigil's detectors on the Numenta Anomaly Benchmark and print NAB's scores beside the published ones.",
    usage: 'vigil bench nab [--data DIR] [--detector KIND|all] [--params JSON] [--files all|odd|even] [--out DIR]',
    details: BENCH_USAGE.split('\n').slice(1).join('\n').trim(),
    options: { data: { type: 'string' }, detector: { type: 'string' }, params: { type: 'string' }, files: { type: 'string' }, out: { type: 'string' } },
    run: async (parsed) => {
      let plan;
      let files;
      try {
        plan = planRuns(stringOption(parsed, 'detector') ?? 'all', stringOption(parsed, 'params'));
        files = parseFileSelection(stringOption(parsed, 'files') ?? 'all');
      } catch (error) {
        if (error instanceof BadUserInputError) throw new UsageError(error.message);
        throw error;
      }
      const out = stringOption(parsed, 'out');
      // The report goes to stdout; the bar and the progress lines to stderr, drawn when both are terminals.
      const bar = progressBar(process.stderr, process.stdout.isTTY === true && process.stderr.isTTY === true);
      try {
        return await benchNab({
          dir: resolve(stringOption(parsed, 'data') ?? defaultNabDir()),
          plan,
          files,
          out: out === undefined ? undefined : resolve(out),
          progress: (text, final) => {
            const files = FILES_DONE.exec(text);
            if (files) bar.update(Number(files[2]), Number(files[3]), files[1]);
            else if (final) bar.log(text);
          },
        });
      } catch (error) {
        if (error instanceof NabScoringError) {
          bar.done();
          process.stderr.write(`bench nab: ${error.message}\n`);
          return 1;
        }
        throw error;
      } finally {
        bar.done();
      }
    },
  },
];
