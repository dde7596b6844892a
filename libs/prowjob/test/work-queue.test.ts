import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@bowline/observability';
import { WorkQueue } from '../src/work-queue.js';

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
      if (key === 'blocker') await gate;
    }, { logger, concurrency: 1 });
    queue.add('blocker');
    queue.add('older');
    queue.add('first-report', { ahead: true });
    queue.add('moved-ahead');
    queue.add('moved-ahead', { ahead: true });
    queue.add('first-report');
    release();
    await queue.idle();
    expect(handled).toEqual(['blocker', 'first-report', 'moved-ahead', 'older']);
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
