import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { fencedBlocks } from './markdown.js';

/**
 * The shell blocks of the READMEs tagged ```` ```bash check ````: each command is checked, not run (a README's
 * commands train models and write files). What is checked is what drifts: a `ganpo` command, subcommand or flag
 * that no longer exists, an `npm run` script or workspace that is gone, an `npx` tool that is not installed, a vitest
 * project or turbo task that is not defined, a script file that moved. Other commands (apt-get, open) are not
 * allowed in a checked block, so nothing passes unchecked.
 */

export interface ShellCommand {
  readonly doc: string;
  readonly line: number;
  readonly words: readonly string[];
}

/** The world a command is checked against. */
export interface ShellWorld {
  readonly root: string;
  readonly program: Command;
  /** Workspace name → its package.json scripts; '' is the root package. */
  readonly scripts: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly vitestProjects: ReadonlySet<string>;
  readonly turboTasks: ReadonlySet<string>;
}

/** Words of a shell line, with quotes removed; `#` starts a comment outside quotes. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const SEPARATORS = new Set(['&&', '||', ';', '|']);

/** The commands of every `bash check` block: continuation lines joined, split at &&, ||, ; and |. */
export function shellCommands(doc: string, source: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  for (const block of fencedBlocks(source)) {
    if (!/^(?:bash|sh|shell)\s+check$/.test(block.info)) continue;
    const lines = block.content.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = block.line + 1 + i;
      let text = lines[i];
      while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + lines[++i];
      let words: string[] = [];
      for (const w of [...shellWords(text), ';']) {
        if (!SEPARATORS.has(w)) words.push(w);
        else if (words.length > 0) {
          commands.push({ doc, line, words });
          words = [];
        }
      }
    }
  }
  return commands;
}

const isEnvAssignment = (w: string) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);

/** Problems of one command, as `doc:line: message`. */
export function checkCommand(world: ShellWorld, c: ShellCommand): string[] {
  const words = c.words.filter((w, i) => !(isEnvAssignment(w) && c.words.slice(0, i).every(isEnvAssignment)));
  const at = `${c.doc}:${c.line}: \`${c.words.join(' ')}\``;
  const problems = checkWords(world, words);
  return problems.map((p) => `${at}: ${p}`);
}

function checkWords(world: ShellWorld, [cmd, ...args]: readonly string[]): string[] {
  switch (cmd) {
    case 'ganpo':
      return checkGanpo(world.program, args);
    case 'npm':
      return checkNpm(world, args);
    case 'npx':
      return checkNpx(world, args);
    case 'node':
    case 'bash':
      return args[0] && !args[0].startsWith('-') && !existsSync(join(world.root, args[0])) ? [`${args[0]} does not exist`] : [];
    default:
      if (cmd?.includes('/')) return existsSync(join(world.root, cmd)) ? [] : [`${cmd} does not exist`];
      return [`'${cmd}' is not a command this check knows (ganpo, npm, npx, node, bash or a script path); leave such lines out of a \`bash check\` block`];
  }
}

/** `ganpo [command [subcommand]] args --flags`: the commands and every flag must exist. */
export function checkGanpo(program: Command, args: readonly string[]): string[] {
  let cmd = program;
  let positional = false;
  const problems: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) {
      const flag = a.split('=')[0];
      const known = cmd.options.some((o) => o.long === flag || o.short === flag) || flag === '--help' || flag === '-h';
      if (!known) problems.push(`\`${['ganpo', ...commandPath(cmd)].join(' ')}\` has no flag ${flag}`);
      continue;
    }
    const sub = positional ? undefined : cmd.commands.find((s) => s.name() === a || s.aliases().includes(a));
    if (sub) cmd = sub;
    else if (cmd === program) return [`ganpo has no command '${a}'`];
    else positional = true;
  }
  return problems;
}

/** The command names below the program: ['data', 'validate']. */
const commandPath = (cmd: Command): string[] => (cmd.parent ? [...commandPath(cmd.parent), cmd.name()] : []);

function checkNpm(world: ShellWorld, args: readonly string[]): string[] {
  const ws = args.find((a, i) => args[i - 1] === '-w' || args[i - 1] === '--workspace') ?? '';
  const rest = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '-w' && args[i - 1] !== '--workspace');
  const scripts = world.scripts.get(ws);
  if (!scripts) return [`no workspace '${ws}'`];
  const [sub, script] = rest;
  if (sub === 'ci' || sub === 'install' || sub === 'pack') return [];
  if (sub === 'test') return 'test' in scripts ? [] : [`${ws || 'the root package'} has no test script`];
  if (sub === 'run' || sub === 'run-script') return script in scripts ? [] : [`${ws || 'the root package'} has no script '${script}'`];
  return [`npm ${sub} is not checked; use ci, install, pack, test or run`];
}

function checkNpx(world: ShellWorld, [tool, ...args]: readonly string[]): string[] {
  if (tool === 'ganpo') return checkGanpo(world.program, args);
  if (!existsSync(join(world.root, 'node_modules/.bin', tool))) return [`npx ${tool}: not installed by npm ci`];
  const problems: string[] = [];
  if (tool === 'vitest') {
    args.forEach((a, i) => {
      if (args[i - 1] === '--project' && !world.vitestProjects.has(a)) problems.push(`no vitest project '${a}'`);
    });
  }
  if (tool === 'turbo') {
    const task = args[args.indexOf('run') + 1];
    if (args.includes('run') && !world.turboTasks.has(task)) problems.push(`no turbo task '${task}'`);
    for (const a of args) {
      const filter = /^--filter=(.+)$/.exec(a)?.[1];
      if (filter && !world.scripts.has(filter)) problems.push(`--filter=${filter}: no such workspace`);
    }
  }
  return problems;
}

/** Scripts of the root package and of every workspace, by name. */
export function workspaceScripts(root: string): Map<string, Record<string, string>> {
  const read = (dir: string) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string; scripts?: Record<string, string>; workspaces?: string[] };
  const top = read('.');
  const map = new Map<string, Record<string, string>>([['', top.scripts ?? {}]]);
  for (const w of top.workspaces ?? []) {
    const pkg = read(w);
    map.set(pkg.name, pkg.scripts ?? {});
  }
  return map;
}
