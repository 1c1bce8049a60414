import { KeystrataError, type AuditRecord } from '@keystrata/core';
import type { Command } from '../context.js';
import { intFlag } from '../flags.js';

/** `keystrata audit list|verify`. */
export const audit: Command = {
  usage: 'audit list [--after <seq>] [--limit 100] | audit verify',
  summary: 'List the audit trail, or verify its HSM-keyed MAC chain.',
  async run(c) {
    const hierarchy = await c.hierarchy();
    if (c.positionals[0] === 'list') {
      const after = c.flags.after === undefined ? 0 : intFlag(c, 'after');
      const records = await hierarchy.listAudit(after, intFlag(c, 'limit', 100));
      c.out.result(records, (rs: AuditRecord[]) => rs.map((r) => `${String(r.seq).padStart(5)} ${r.at} ${r.event.padEnd(13)} ${r.subject} ${r.details}`).join('\n') || '(no records)');
    } else if (c.positionals[0] === 'verify') {
      const result = await hierarchy.verifyAudit();
      c.out.result({ valid: true, ...result }, () => `Audit trail intact: ${result.records} record(s); head #${result.headSeq} ${result.headMac}. Keep the head outside the database to detect a truncated tail.`);
    } else {
      throw new KeystrataError('CONFIG_INVALID', 'Usage: keystrata audit list|verify');
    }
  },
};
