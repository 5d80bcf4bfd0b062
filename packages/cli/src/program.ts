import { Command, CommanderError, Option } from 'commander';
import {
  BenchFlagsCodec, EvalFlagsCodec, ExportFlagsCodec, InfoFlagsCodec, MakeTaskFlagsCodec, ModelInfoFlagsCodec, ReportFlagsCodec, SampleFlagsCodec,
  StatsFlagsCodec, ValidateFlagsCodec, decodeFlags,
} from './config/commandFlags.js';
import { registerExperimentCommand } from './commands/experiment.js';
import { addConfigFlags } from './config/flags.js';
import { EXIT_OK, EXIT_USAGE } from './errors.js';
import { type CliIo, processIo, reportError } from './util/io.js';
import { VERSION } from './version.js';

/**
 * The `ganpo` command line (commander). Each action returns an exit code; `main` turns every error into one
 * message and a code: 2 for usage, config and data mistakes, 1 for failures during a run, 130 after Ctrl-C.
 * Command modules are imported when their command runs, so `ganpo --help` starts fast.
 */

type Action = (...args: unknown[]) => Promise<number> | number;

const EXAMPLES = {
  train: `
Examples:
  $ ganpo train                                   # the default run: embedded task, SFT then DPO+GANPO, ~1 minute
  $ ganpo train --data pairs.jsonl --out runs/mine
  $ ganpo train --objective ipo --beta 0.5 --no-ganpo
  $ ganpo train --stage preference --model runs/ganpo/sft --lambda 0.5 --disc-lr 1e-4
  $ ganpo train --model model.json --tokenizer gpt2-tokenizer.json   # a model config file: fresh weights of that size
  $ ganpo train --config run.json --steps 200      # flags override the config file
  $ ganpo train --resume runs/ganpo                # continue after Ctrl-C, bit for bit

Loop flags (--steps, --lr, --batch-size, ...) set the preference stage, or SFT under --stage sft; the
--sft-* flags set SFT. A --config file holds any subset of the keys shown by \`ganpo train --print-config\`.
Writes OUT/metrics.jsonl, OUT/checkpoints/, OUT/sft/ and OUT/policy/, OUT/eval.json, OUT/report.html and OUT/report.md.`,
  eval: `
Examples:
  $ ganpo eval --run runs/ganpo
  $ ganpo eval --run runs/ganpo --temperatures 0,0.7,1.2 --prompts 100 --json > eval.json`,
  sample: `
Examples:
  $ ganpo sample --run runs/ganpo --prompt "reverse: hello"
  $ ganpo sample --run runs/ganpo --prompt "sort: d b a c" --temperature 0.8 --top-p 0.95 --n 5 --seed 1`,
  data: `
Examples:
  $ ganpo data validate pairs.jsonl
  $ ganpo data stats pairs.jsonl --json
  $ ganpo data make-task --out task/train.jsonl
  $ ganpo data make-task --out-dir task/`,
  bench: `
Examples:
  $ ganpo bench --preset reference
  $ ganpo bench --width 512 --layers 6 --heads 8 --modes dpo,dpo+ganpo
  $ ganpo bench --preset tiny --pairs 4 --steps 20 --json`,
  info: `
Examples:
  $ ganpo info
  $ ganpo info --backend gpujs --json
  $ ganpo info --model path/to/SmolLM2-135M --batch-size 4 --max-length 256 --lora-r 16`,
  export: `
Examples:
  $ ganpo export --run runs/ganpo --out hf/ganpo-policy
  $ ganpo export --run runs/lora --out hf/merged --dtype bf16 --adapter-out hf/adapter`,
  report: `
Examples:
  $ ganpo report --run runs/ganpo`,
};

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('ganpo');
  const wrap =
    (load: () => Promise<Action>) =>
    async (...args: unknown[]) => {
      const action = await load();
      setExit(await action(...args));
    };
  program
    .description('Offline preference optimisation of language models with latent adversarial regularisation (GANPO).')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: (s, write) => write(s.replace(/^error:/, 'ganpo: error:')) })
    .exitOverride()
    .addHelpText(
      'after',
      `
Start with:
  $ ganpo train            # trains a small model on the embedded task and writes runs/ganpo/report.html
  $ ganpo <command> --help # options and examples of a command`,
    );

  const train = program
    .command('train')
    .description('train a policy: SFT, then preference optimisation (DPO family) with the GANPO regulariser')
    .option('--config <file>', 'run configuration (JSON); flags override it')
    .option('--resume <dir>', 'continue the run in DIR from its latest checkpoint')
    .option('--overwrite', 'replace an existing run in --out')
    .option('--print-config', 'print the resolved configuration as JSON and exit')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the result as JSON on stdout');
  addConfigFlags(train);
  train.addOption(new Option('--stop-at <step>', 'stop (with a checkpoint, as Ctrl-C would) after STEP or STAGE:STEP; for testing resume').hideHelp());
  train.addOption(new Option('--inject-nan <step>', 'make the loss NaN at STEP or STAGE:STEP (tests the NaN guard)').hideHelp());
  train.addHelpText('after', EXAMPLES.train);
  train.action(
    wrap(async () => {
      const m = await import('./commands/train.js');
      return (flags: unknown) => {
        const f = flags as Parameters<typeof m.trainCommand>[0];
        if (f.printConfig) {
          io.stdout.write(`${JSON.stringify(m.buildTrainConfig(f).config, null, 2)}\n`);
          return 0;
        }
        return m.trainCommand(f, io);
      };
    }),
  );

  program
    .command('eval')
    .description('evaluate a run: held-out preference accuracy and margins, sampled-response reward, KL and latent drift')
    .requiredOption('--run <dir>', 'the run directory')
    .option('--temperatures <list>', 'comma-separated sampling temperatures (0 is greedy; default: the run config)')
    .option('--prompts <n>', 'held-out prompts to sample (0: all; default: the run config)')
    .option('--pairs <n>', 'held-out pairs (0: all)')
    .option('--max-new-tokens <n>', 'longest sampled response')
    .option('--seed <n>', 'sampling seed (default: the run seed)')
    .option('--backend <name>', 'compute backend')
    .option('--no-write', 'do not write OUT/eval.json and the report')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the evaluation as JSON on stdout')
    .addHelpText('after', EXAMPLES.eval)
    .action(wrap(async () => {
      const m = await import('./commands/evalSample.js');
      return (flags: unknown) => m.evalCommand(decodeFlags('eval', EvalFlagsCodec, flags), io);
    }));

  program
    .command('sample')
    .description('generate responses from a trained policy')
    .option('--run <dir>', 'a run directory (its final policy, else its latest checkpoint)')
    .option('--model <dir>', 'a model directory instead of a run')
    .requiredOption('--prompt <text>', 'the prompt')
    .option('--temperature <t>', 'sampling temperature (0: greedy)', '0')
    .option('--top-p <p>', 'nucleus sampling threshold')
    .option('--top-k <k>', 'keep the k most likely tokens')
    .option('--n <n>', 'number of samples', '1')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--max-new-tokens <n>', 'longest response', '64')
    .option('--backend <name>', 'compute backend')
    .option('--json', 'print the samples as JSON')
    .addHelpText('after', EXAMPLES.sample)
    .action(wrap(async () => {
      const m = await import('./commands/evalSample.js');
      return (flags: unknown) => m.sampleCommand(decodeFlags('sample', SampleFlagsCodec, flags), io);
    }));

  const data = program.command('data').description('validate, describe and generate preference data').addHelpText('after', EXAMPLES.data);
  data
    .command('validate')
    .description('check every row of a data file: format, counts, errors by line (exit 2 if any row is bad)')
    .argument('<file>', 'a JSONL/JSON file or a directory of shards')
    .option('--format <name>', 'expected row format (default: detect)')
    .option('--max-errors <n>', 'error lines to list', '50')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExamples:\n  $ ganpo data validate pairs.jsonl\n  $ ganpo data validate shards/ --format hh_rlhf --json\n\nExit code 0: every row is valid; 2: some row is not (or the file cannot be read).')
    .action(wrap(async () => {
      const m = await import('./commands/data.js');
      return (file: unknown, flags: unknown) => m.validateCommand(file as string, decodeFlags('data validate', ValidateFlagsCodec, flags), io);
    }));
  data
    .command('stats')
    .description('counts, lengths (characters and tokens), duplicate prompts and length bias of a data file')
    .argument('<file>', 'a JSONL/JSON file or a directory of shards')
    .option('--format <name>', 'row format (default: detect)')
    .option('--tokenizer <name>', 'byte (default), a tokenizer.json path or a Hugging Face model directory')
    .option('--data-mode <mode>', 'skip (default: count past bad rows) or strict')
    .option('--json', 'print the statistics as JSON')
    .addHelpText('after', '\nExamples:\n  $ ganpo data stats pairs.jsonl\n  $ ganpo data stats pairs.jsonl --tokenizer tokenizer.json --json')
    .action(wrap(async () => {
      const m = await import('./commands/data.js');
      return (file: unknown, flags: unknown) => m.statsCommand(file as string, decodeFlags('data stats', StatsFlagsCodec, flags), io);
    }));
  data
    .command('make-task')
    .description('write the embedded task as TRL JSONL (train pairs by default)')
    .option('--out <file>', 'write one split to FILE')
    .option('--split <name>', 'train (preference pairs), eval (pairs), sft (prompt/completion) or heldout', 'train')
    .option('--out-dir <dir>', 'write all four splits (sft, train, eval, heldout) into DIR')
    .option('--seed <n>', 'task seed (default: the one `ganpo train` uses)')
    .option('--json', 'print the written files as JSON')
    .addHelpText('after', '\nExamples:\n  $ ganpo data make-task --out task/train.jsonl\n  $ ganpo data make-task --out task/sft.jsonl --split sft\n  $ ganpo data make-task --out-dir task/')
    .action(wrap(async () => {
      const m = await import('./commands/data.js');
      return (flags: unknown) => m.makeTaskCommand(decodeFlags('data make-task', MakeTaskFlagsCodec, flags), io);
    }));

  program
    .command('bench')
    .description('the reference training step (or another shape): ms/step, tokens/s, phases and peak RSS of SFT, DPO and DPO+GANPO')
    .option('--preset <name>', 'reference (the step of the TF.js and PyTorch peers; default), small or tiny')
    .option('--model <preset>', 'the former name of --preset')
    .option('--width <n>', 'policy width (MLP 4·width)')
    .option('--layers <n>', 'policy layers')
    .option('--heads <n>', 'policy attention heads')
    .option('--seq <n>', 'tokens per sequence (the second half is the completion)')
    .option('--pairs <n>', 'preference pairs per step (SFT steps take the same 2·pairs sequences)')
    .option('--batch-size <n>', 'the former name of --pairs')
    .option('--modes <list>', 'comma-separated subset of sft,dpo,dpo+ganpo')
    .option('--steps <n>', 'timed steps per mode (the median is reported)', '5')
    .option('--warmup <n>', 'untimed steps first', '2')
    .option('--backend <name>', 'compute backend')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', EXAMPLES.bench)
    .action(wrap(async () => {
      const m = await import('./commands/bench.js');
      return (flags: unknown) => m.benchCommand(decodeFlags('bench', BenchFlagsCodec, flags), io);
    }));

  program
    .command('info')
    .description('version, compute backend (and gpu.js mode) in use, machine; with --model, what training that model needs')
    .option('--backend <name>', 'report this backend instead of the automatic choice')
    .option('--model <dir>', 'a model directory: architecture, parameters and the memory of a training step (nothing is loaded)')
    .option('--batch-size <n>', 'with --model: pairs per step', '8')
    .option('--max-length <n>', 'with --model: tokens per sequence', '512')
    .option('--lora-r <r>', 'with --model: estimate for LoRA adapters of rank r (0: full fine-tuning)', '0')
    .option('--lora-targets <names>', 'with --model: LoRA target layers (default q_proj,v_proj; c_attn for GPT-2)')
    .option('--json', 'print as JSON')
    .addHelpText('after', EXAMPLES.info)
    .action(wrap(async () => {
      const m = await import('./commands/benchInfo.js');
      const mi = await import('./commands/modelInfo.js');
      return (flags: unknown) =>
        (flags as { model?: string }).model
          ? mi.modelInfoCommand(decodeFlags('info', ModelInfoFlagsCodec, flags), io)
          : m.infoCommand(decodeFlags('info', InfoFlagsCodec, flags), io);
    }));

  program
    .command('export')
    .description('write a run\'s policy as a Hugging Face directory (config.json, model.safetensors, tokenizer files)')
    .option('--run <dir>', 'a run directory (its final policy, else its latest checkpoint)')
    .option('--model <dir>', 'a model directory instead of a run')
    .requiredOption('--out <dir>', 'the Hugging Face directory to write')
    .option('--dtype <type>', 'stored precision: f32, bf16 or f16', 'f32')
    .option('--adapter-out <dir>', 'also write the LoRA adapters alone in PEFT\'s layout')
    .option('--overwrite', 'replace a non-empty --out')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXAMPLES.export)
    .action(wrap(async () => {
      const m = await import('./commands/export.js');
      return (flags: unknown) => m.exportCommand(decodeFlags('export', ExportFlagsCodec, flags), io);
    }));

  program
    .command('report')
    .description('rebuild OUT/report.html and OUT/report.md from a run directory')
    .requiredOption('--run <dir>', 'the run directory')
    .addHelpText('after', EXAMPLES.report)
    .action(wrap(async () => {
      const m = await import('./commands/report.js');
      return (flags: unknown) => m.reportCommand(decodeFlags('report', ReportFlagsCodec, flags), io);
    }));

  registerExperimentCommand(program, io, setExit);
  return program;
}

/** Runs the command line; resolves to the exit code (never throws, never prints a stack trace). */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return EXIT_OK;
    }
    await program.parseAsync([...argv]);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; anything else commander rejects (unknown option, missing argument) is usage.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    return reportError(e, io);
  }
}
