// `ledger verify`: walks the ledger's hash chain (docs/store.md "Verifying") on a read-only
// connection — safe while the gateway runs — and names the first row that was edited,
// deleted, inserted or reordered. Exit 0 and a summary when the chain is intact; an error
// naming the row (exit 2, as every CLI error) otherwise.
import type { Command } from 'commander';
import { configPathFromEnv, loadConfig } from '../config/load.js';
import { CodedError } from '../errors.js';
import { type ChainReport, verifyLedger } from '../store/index.js';

export class LedgerVerifyError extends CodedError<'LEDGER_CHAIN_BROKEN'> {
  constructor(readonly report: ChainReport & { file: string }) {
    const p = report.problem;
    const where = p === null ? '' : p.chainSeq === null ? `${place(p)}` : `${place(p)} (chain row ${p.chainSeq})`;
    super(
      'LEDGER_CHAIN_BROKEN',
      `[LEDGER_CHAIN_BROKEN] ${report.file}: ${p?.kind ?? 'broken'} at ${where}: ${p?.detail ?? 'unknown problem'}; ` +
        `${report.verified} chain row${report.verified === 1 ? '' : 's'} before it verified`,
    );
  }
}

function place(p: NonNullable<ChainReport['problem']>): string {
  return p.table === 'ledger' ? `ledger seq ${p.seq}` : p.table === 'zone_corrections' ? `zone correction ${p.seq}` : `chain row ${p.seq}`;
}

function summary(r: ChainReport & { file: string }): string {
  const n = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;
  const lines = [
    `ledger chain intact: ${r.file}`,
    `  ${n(r.verified, 'chain row')} verified: ${n(r.records.ledger, 'ledger row')}, ${n(r.records.zoneCorrections, 'zone correction')}, ` +
      `${n(r.records.updates, 'applied update')}, ${n(r.records.other, 'genesis or checkpoint row')}`,
    `  head: seq ${r.head?.seq ?? 0}, sha256 ${r.head?.hash ?? '-'} (published in …/stats as chain)`,
  ];
  if (r.cutBy !== null) lines.push(`  starts after the rows cut by the checkpoint at chain row ${r.cutBy}`);
  if (r.erased.person + r.erased.health > 0) {
    lines.push(`  erased and still verifiable: person fields of ${n(r.erased.person, 'row')}, health fields of ${n(r.erased.health, 'row')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerLedgerCommands(program: Command): void {
  program
    .command('ledger')
    .description('the local ledger and its hash chain')
    .command('verify')
    .description('check every ledger row, zone correction and applied update against the hash chain; name the first edited, deleted, inserted or reordered row')
    .option('--config <file>', 'gateway config naming the data dir (default GATEWAY_CONFIG or config/gateway.yaml)')
    .option('--json', 'the report as one JSON object on stdout (also when broken)')
    .action((o: { config?: string; json?: boolean }) => {
      const loaded = loadConfig(o.config ?? configPathFromEnv());
      const report = verifyLedger(loaded.paths.dataDir);
      if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else if (report.ok) process.stdout.write(summary(report));
      if (!report.ok) throw new LedgerVerifyError(report);
    });
}
