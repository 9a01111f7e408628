// Small settings by key: which update of each kind is applied (update.<kind>.*), the MQTT
// session counter, the last screening summary queued. Written in the caller's transaction.
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';

export class MetaRoom {
  readonly #get: Database.Statement<[string], { value: string }>;
  readonly #set: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.#set = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  get(key: string): string | undefined {
    return this.#get.get(key)?.value;
  }

  set(key: string, value: string): void {
    if (typeof key !== 'string' || key.length === 0 || typeof value !== 'string') {
      throw new StoreError('STORE_INVALID_ROW', `meta ${JSON.stringify(key)} refused: expected a non-empty string key and a string value`, {
        key,
      });
    }
    this.#set.run(key, value);
  }
}
