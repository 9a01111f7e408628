// Shared helpers for the store tests: a fresh temp directory per test and entry builders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntry, NewLedgerEntry, OutboxMessage } from '../../../gateway/store/index.js';

const made: string[] = [];

export function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-store-'));
  made.push(dir);
  return dir;
}

/** Call from afterEach after closing stores. */
export function removeDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
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
