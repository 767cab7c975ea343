// The one parser: decisions from argv, and the help it writes from the same table.
import { describe, expect, it } from 'vitest';
import { backupSpec } from '../backup/spec.ts';
import { incidentSpec } from '../incident/spec.ts';
import { type CliSpec, commandHelp, decide, mainHelp, scriptArgs } from './args.ts';

const spec: CliSpec = {
  script: 'tool.mjs',
  usage: 'zx scripts/tool.mjs <command> [options]',
  commandsTitle: 'Commands:',
  column: 16,
  options: {
    target: { type: 'string', default: 'twin', value: 'T', choices: ['twin', 'prod'], help: 'where' },
    json: { type: 'boolean', help: 'machine-readable output' },
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', value: 'N' },
    help: { type: 'boolean', short: 'h', help: 'help' },
  },
  commands: {
    logs: {
      synopsis: 'logs [app]',
      summary: 'the logs\nand more',
      args: '[app]',
      options: ['lines', 'follow'],
      about: 'Streams.',
    },
    status: { summary: 'one screen', options: ['json'], about: 'Judges.' },
  },
};

describe('decide', () => {
  it('parses options anywhere, short flags, defaults, and the words after the command', () => {
    expect(decide(spec, ['logs', 'app', '-f', '--lines', '5', '--json'])).toEqual({
      kind: 'run',
      json: true,
      invocation: {
        command: 'logs',
        rest: ['app'],
        values: { target: 'twin', follow: true, lines: '5', json: true },
      },
    });
    expect(decide(spec, ['--target=prod', 'status'])).toMatchObject({
      kind: 'run',
      invocation: { command: 'status', values: { target: 'prod' } },
    });
  });

  it('help: none given is exit 2, --help exit 0, a command --help its own page', () => {
    expect(decide(spec, [])).toEqual({ kind: 'help', text: mainHelp(spec), code: 2 });
    expect(decide(spec, ['--help'])).toMatchObject({ kind: 'help', code: 0 });
    expect(decide(spec, ['nope', '-h'])).toEqual({ kind: 'help', text: mainHelp(spec), code: 0 });
    expect(decide(spec, ['logs', '--help'])).toEqual({
      kind: 'help',
      text: commandHelp(spec, 'logs'),
      code: 0,
    });
  });

  it('an unknown command or option, or a missing value, is a usage error', () => {
    expect(decide(spec, ['frob', '--json'])).toMatchObject({
      kind: 'usage',
      json: true,
      message: /^unknown command: frob\n\nUsage:/,
    });
    expect(decide(spec, ['status', '--dryrun'])).toMatchObject({
      kind: 'usage',
      message: 'unknown option --dryrun (see --help)',
    });
    expect(decide(spec, ['logs', '--lines'])).toMatchObject({ kind: 'usage', message: /--lines/ });
    expect(decide(spec, ['constructor'])).toMatchObject({ kind: 'usage' });
  });
});

describe('help from the table', () => {
  it('lists commands at the column and the options every command takes', () => {
    expect(mainHelp(spec)).toBe(
      [
        'Usage: zx scripts/tool.mjs <command> [options]',
        '',
        'Commands:',
        '  logs [app]    the logs',
        '                and more',
        '  status        one screen',
        '',
        'Options (every command):',
        '  --target twin|prod   where',
        '  --json               machine-readable output',
        '  -h, --help           help',
      ].join('\n'),
    );
    expect(commandHelp(spec, 'logs')).toBe('Usage: logs [app] [--lines N] [--follow]\nStreams.');
  });

  it('every command of the entries has a usage line (the e2e tests read "Usage: ")', () => {
    for (const s of [incidentSpec, backupSpec])
      for (const name of Object.keys(s.commands))
        expect(commandHelp(s, name)).toMatch(new RegExp(`^Usage: ${name}`));
    expect(mainHelp(incidentSpec)).toContain('  restart app|proxy|db|redis          restart one component');
  });
});

describe('help laid out by the entry', () => {
  const laid: CliSpec = {
    ...spec,
    optionsTitle: 'Options:',
    optionsColumn: 16,
    footer: 'Exit codes: 0 ok, 2 usage.',
    options: {
      out: { type: 'string', value: 'DIR', help: 'report directory' },
      json: spec.options.json,
      help: spec.options.help,
    },
    commands: { ...spec.commands, scan: { summary: 'scan', options: ['out'] } },
  };

  it('names the option list, places its column, shows values and closes with the footer', () => {
    expect(mainHelp(laid).split('\n').slice(-6)).toEqual([
      'Options:',
      '  --out DIR     report directory',
      '  --json        machine-readable output',
      '  -h, --help    help',
      '',
      'Exit codes: 0 ok, 2 usage.',
    ]);
  });

  it('a command without its own page answers --help with the main help', () => {
    expect(decide(laid, ['scan', '--help'])).toEqual({ kind: 'help', text: mainHelp(laid), code: 0 });
    expect(decide(laid, ['logs', '--help'])).toMatchObject({ text: commandHelp(laid, 'logs') });
  });
});

describe('an entry that does one thing', () => {
  const one: CliSpec = {
    ...spec,
    intro: 'Starts it.',
    defaultCommand: 'start',
    commands: { start: { summary: 'start', options: ['json'] } },
  };

  it('runs its command when none is named; the help has the intro and no command list', () => {
    expect(decide(one, ['--json'])).toMatchObject({
      kind: 'run',
      invocation: { command: 'start', rest: [] },
    });
    expect(decide(one, ['-h'])).toEqual({ kind: 'help', text: mainHelp(one), code: 0 });
    expect(mainHelp(one).split('\n').slice(0, 5)).toEqual([
      'Usage: zx scripts/tool.mjs <command> [options]',
      '',
      'Starts it.',
      '',
      'Options (every command):',
    ]);
    expect(decide(one, ['stop'])).toMatchObject({ kind: 'usage', message: /^unknown command: stop/ });
  });
});

describe('scriptArgs', () => {
  it('takes what follows the script, however it was started', () => {
    expect(scriptArgs(['node', '/x/zx', 'scripts/tool.mjs', 'logs'], 'tool.mjs')).toEqual(['logs']);
    expect(scriptArgs(['node', '/repo/scripts/tool.mjs'], 'tool.mjs')).toEqual([]);
  });
});
