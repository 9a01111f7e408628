// Shared helpers for the store tests: a fresh temp directory per test and entry builders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError, type LedgerEntry, type NewLedgerEntry, type OutboxMessage } from '../../../gateway/store/index.js';

const made: string[] = [];

/** A new temp directory, removed by removeDirs() (or closeAndRemove()). */
export function freshDir(prefix = 'gateway-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Call from afterEach after closing stores. */
export function removeDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const opened: { close(): void }[] = [];

/** Keep a store (or anything else on a temp file) to be closed by closeAndRemove(). */
export function track<T extends { close(): void }>(it: T): T {
  opened.push(it);
  return it;
}

/** For afterEach: close what was tracked, in order, then remove the temp directories. */
export function closeAndRemove(): void {
  for (const it of opened.splice(0)) it.close();
  removeDirs();
}

/** The StoreError `fn` throws; fails the test if it throws nothing or something else. */
export function catchError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err;
    throw err;
  }
  throw new Error('expected a StoreError, nothing was thrown');
}

let counter = 0;

export function entry(over: Partial<NewLedgerEntry> = {}): NewLedgerEntry {
  counter += 1;
  return {
    id: `evt-${counter.toString().padStart(6, '0')}`,
    at: 1_670_000_000_000 + counter,
    lane: 'lane-1',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'health-pass',
    subjectRef: `ref-${counter}`,
    subjectName: '张三',
    category: 'employee',
    temperature: 36.6,
    ...over,
  };
}

/** The message the telemetry side would build: no name, the seq included. */
export function toEventsTopic(row: LedgerEntry): OutboxMessage {
  const { subjectName: _name, ...published } = row;
  return { topic: 'checkpoints/site/cp/events', payload: JSON.stringify(published), qos: 1 };
}
