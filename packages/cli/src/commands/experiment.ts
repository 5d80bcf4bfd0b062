import { type Command, Option } from 'commander';
import { ExperimentFlagsCodec, decodeFlags } from '../config/commandFlags.js';
import type { CliIo } from '../util/io.js';

/**
 * `ganpo experiment run|plan|report`: a grid of training runs × seeds from a spec file, evaluated for
 * robustness, aggregated over seeds into a report. The actions load on use, so `ganpo --help` stays fast.
 */

const EXAMPLES = `
Examples:
  $ ganpo experiment run experiments/1-temperature.json --quick          # minutes: 2 seeds, short runs
  $ ganpo experiment run experiments/1-temperature.json --jobs 2         # full size; rerun to resume
  $ ganpo experiment plan experiments/3-label-noise.json > runs.jsonl     # one command per run, for a scheduler
  $ ganpo experiment report runs/experiments/temperature                 # rebuild report.md and report.html

A spec fixes the grid (axes of config keys or named variants), the seeds, the metrics and the comparisons
before anything runs; see experiments/README.md.`;

type Action = (...args: unknown[]) => Promise<number> | number;

export function registerExperimentCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const actions = () => import('../experiment/actions.js');
  const wrap = (fn: (m: Awaited<ReturnType<typeof actions>>) => Action) => async (...args: unknown[]) => setExit(await fn(await actions())(...args));
  const experiment = program.command('experiment').description('run a grid of training runs × seeds from a spec, evaluate robustness, report mean ± sd and paired differences').addHelpText('after', EXAMPLES);
  const run = experiment
    .command('run')
    .description('run the grid of a spec (complete runs are skipped, so an interrupted grid resumes); writes OUT/report.md and OUT/report.html')
    .argument('<spec>', 'the experiment spec (JSON)')
    .option('--jobs <n>', 'runs at once, each a child process with cores/n kernel threads', '1')
    .option('--quick', 'the spec\'s quick size (fewer seeds, shorter runs)')
    .option('--out <dir>', 'the experiment directory (default: the spec\'s "out", else runs/experiments/NAME)')
    .option('--only <id>', 'run this one cell in this process (what `plan` prints)')
    .option('--threads <n>', 'kernel threads for --only', '1');
  run.addOption(new Option('--sft-only', 'with --only: only make sure the cell\'s shared SFT model exists').hideHelp());
  run.action(wrap((m) => (spec, flags) => m.experimentRunCommand(spec as string, decodeFlags('experiment run', ExperimentFlagsCodec, flags), io)));
  experiment
    .command('plan')
    .description('print one JSON line per run of the grid: {id, dir, command}, each command self-contained')
    .argument('<spec>', 'the experiment spec (JSON)')
    .option('--quick', 'the spec\'s quick size')
    .option('--out <dir>', 'the experiment directory')
    .action(wrap((m) => (spec, flags) => m.experimentPlanCommand(spec as string, decodeFlags('experiment plan', ExperimentFlagsCodec, flags), io)));
  experiment
    .command('report')
    .description('rebuild OUT/report.md and OUT/report.html from whatever runs of the experiment exist')
    .argument('<dir>', 'the experiment directory')
    .action(wrap((m) => (dir) => m.experimentReportCommand(dir as string, io)));
}
