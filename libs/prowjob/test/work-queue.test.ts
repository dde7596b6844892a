import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@bowline/observability';
import { AHEAD_SLOTS, WorkQueue } from '../src/work-queue.js';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('the work queue', () => {
  it('handles a key added many times while waiting once', async () => {
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new WorkQueue(async (key) => {
      handled.push(key);
      if (key === 'blocker') await gate;
    }, { logger, concurrency: 1 });
    queue.add('blocker');
    queue.add('a');
    queue.add('a');
    queue.add('a');
    release();
    await queue.idle();
    expect(handled).toEqual(['blocker', 'a']);
  });

  it('never runs one key twice at once, and runs it again when added while running', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const queue = new WorkQueue(async () => {
      running += 1;
      most = Math.max(most, running);
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      running -= 1;
    }, { logger, concurrency: 4 });
    queue.add('k');
    await new Promise((resolve) => setTimeout(resolve, 5));
    queue.add('k');
    await queue.idle();
    expect(most).toBe(1);
    expect(runs).toBe(2);
  });

  it('runs a key added ahead before the keys already waiting, and once however it was added', async () => {
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new WorkQueue(async (key) => {
      handled.push(key);
      if (key.includes('blocker')) await gate;
    }, { logger, concurrency: 1 });
    // Every slot taken, the ones only keys added ahead may use included.
    queue.add('blocker');
    for (let i = 1; i <= AHEAD_SLOTS; i += 1) queue.add(`ahead blocker ${i}`, { ahead: true });
    queue.add('older');
    queue.add('first-report', { ahead: true });
    queue.add('moved-ahead');
    queue.add('moved-ahead', { ahead: true });
    queue.add('first-report');
    release();
    await queue.idle();
    expect(handled.slice(1 + AHEAD_SLOTS)).toEqual(['first-report', 'moved-ahead', 'older']);
  });

  it('runs a key added ahead at once in a slot of its own while slower work holds every other slot', async () => {
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new WorkQueue(async (key) => {
      handled.push(key);
      if (key.startsWith('slow')) await gate;
    }, { logger, concurrency: 2 });
    queue.add('slow 1');
    queue.add('slow 2');
    queue.add('slow 3');
    queue.add('first report', { ahead: true });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handled).toEqual(['slow 1', 'slow 2', 'first report']);
    release();
    await queue.idle();
    expect(handled).toEqual(['slow 1', 'slow 2', 'first report', 'slow 3']);
  });

  it('keeps a key added ahead while it runs ahead for its next run', async () => {
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const queue = new WorkQueue(async (key) => {
      handled.push(key);
      if (key === 'first report' && (runs += 1) === 1) {
        // A newer state came while the first report ran: it goes again, ahead of the slow work.
        queue.add('first report', { ahead: true });
        for (let i = 1; i <= 3; i += 1) queue.add(`slow ${i}`);
        await gate;
      } else if (key.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 5));
    }, { logger, concurrency: 1 });
    queue.add('first report', { ahead: true });
    release();
    await queue.idle();
    expect(handled.slice(0, 2)).toEqual(['first report', 'first report']);
  });

  it('retries a failing key with backoff until it succeeds', async () => {
    let attempts = 0;
    const queue = new WorkQueue(async () => {
      attempts += 1;
      if (attempts < 3) throw new Error('GitHub is down');
    }, { logger, maxBackoffMs: 10 });
    queue.add('k');
    const deadline = Date.now() + 5000;
    while (attempts < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    await queue.idle();
    await queue.stop();
    expect(attempts).toBe(3);
  });
});
