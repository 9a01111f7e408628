import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration tests open real ports, brokers and SQLite files; each file runs in
    // its own fork so a crashed native handle cannot take the others down.
    pool: 'forks',
  },
});
