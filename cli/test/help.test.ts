import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@bowline/testing';

// The installed command, run as a process: what a person at a terminal sees, exit status included.
// It uses cli/dist, so `make test` builds first.
function bowline(...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'cli/bin/bowline.js'), ...argv], {
    // Nowhere to connect: a command that got past its arguments would fail, not print usage.
    env: { PATH: process.env.PATH ?? '', NATS_URL: 'nats://127.0.0.1:9', BOWLINE_OPERATOR_URL: 'http://127.0.0.1:9' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The first usage line of each command: which usage was printed. */
const FIRST_LINE = {
  checkconfig: 'bowline checkconfig --config PATH',
  schema: 'bowline schema [--out FILE]',
  jobs: 'bowline jobs list [--repo ORG/REPO]',
  events: 'bowline events dead-letters [--service NAME]',
} as const;
type Usage = keyof typeof FIRST_LINE | 'all';

function expectUsageOf(text: string, usage: Usage): void {
  expect(text).toContain('usage:');
  for (const [command, line] of Object.entries(FIRST_LINE)) {
    if (usage === 'all' || usage === command) expect(text).toContain(line);
    else expect(text).not.toContain(line);
  }
}

describe('bowline --help', () => {
  it.each<[string[], Usage]>([
    [['--help'], 'all'],
    [['-h'], 'all'],
    [['help'], 'all'],
    [['help', 'jobs'], 'jobs'],
    [['checkconfig', '--help'], 'checkconfig'],
    [['schema', '-h'], 'schema'],
    [['jobs', '--help'], 'jobs'],
    [['jobs', 'list', '--help'], 'jobs'],
    [['jobs', 'show', '--help'], 'jobs'],
    [['jobs', 'logs', '-h'], 'jobs'],
    [['jobs', 'list', '--bogus', '--help'], 'jobs'],
    [['events', '--help'], 'events'],
    [['events', 'dead-letters', '--help'], 'events'],
  ])('answers %j with the usage of %s on stdout and status 0', (argv, usage) => {
    const { status, stdout, stderr } = bowline(...argv);

    expect(status).toBe(0);
    expectUsageOf(stdout, usage);
    expect(stderr).toBe('');
  });
});

describe('a mistake on the command line', () => {
  it.each<[string[], string, Usage]>([
    [[], 'no command given', 'all'],
    [['frobnicate'], 'unknown command "frobnicate"', 'all'],
    [['--verbose'], 'unknown option "--verbose"', 'all'],
    [['help', 'frobnicate'], 'no command "frobnicate"', 'all'],
    [['checkconfig', '--bogus'], "Unknown option '--bogus'", 'checkconfig'],
    [['checkconfig'], 'checkconfig needs --config PATH', 'checkconfig'],
    [['schema', '--out'], "Option '--out <value>' argument missing", 'schema'],
    [['schema', 'extra'], "Unexpected argument 'extra'", 'schema'],
    [['jobs', 'frobnicate'], 'unknown jobs command "frobnicate"', 'jobs'],
    [['jobs', 'list', '--bogus'], "Unknown option '--bogus'", 'jobs'],
    [['jobs', 'list', '-x'], "Unknown option '-x'", 'jobs'],
    [['jobs', 'show', 'p-1', '--json=yes'], "Option '--json' does not take an argument", 'jobs'],
    [['jobs', 'logs', 'p-1', '--nats', 'nats://x'], "Unknown option '--nats'", 'jobs'],
    [['events'], 'events needs a command: dead-letters', 'events'],
    [['events', 'dead-letters', '--bogus'], "Unknown option '--bogus'", 'events'],
  ])('answers %j with "%s", the usage of %s on stderr and status 2', (argv, message, usage) => {
    const { status, stdout, stderr } = bowline(...argv);

    expect(status).toBe(2);
    expect(stderr).toContain(`bowline: ${message}`);
    expectUsageOf(stderr, usage);
    expect(stdout).toBe('');
  });
});
