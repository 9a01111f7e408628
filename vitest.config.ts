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
    // Vitest's default is cpus − 1, which is one worker on the 2-core CI machine: the suite
    // then ran file after file (16 min 19 s at a28b7b1). Most files wait on processes,
    // brokers and sockets, so two workers took it to 10 min 16 s with every test passing.
    maxWorkers: 2,
  },
});
