import { KeystrataError, type AuditRecord } from '@keystrata/core';
import type { Command } from '../context.js';
import { flag, intFlag } from '../flags.js';
import { parseAuditHead } from './audit-head.js';

/** `keystrata audit list|verify`. */
export const audit: Command = {
  usage: 'audit list [--after <seq>] [--limit 100] | audit verify [--head <seq>:<mac>]',
  summary: 'List the audit trail, or verify its HSM-keyed MAC chain, that it is whole, and (with --head) that a head saved earlier is still in it.',
  async run(c) {
    const hierarchy = await c.hierarchy();
    if (c.positionals[0] === 'list') {
      const after = c.flags.after === undefined ? 0 : intFlag(c, 'after');
      const records = await hierarchy.listAudit(after, intFlag(c, 'limit', 100));
      c.out.result(records, (rs: AuditRecord[]) => rs.map((r) => `${String(r.seq).padStart(5)} ${r.at} ${r.event.padEnd(13)} ${r.subject} ${r.details}`).join('\n') || '(no records)');
    } else if (c.positionals[0] === 'verify') {
      const saved = flag(c, 'head');
      const head = saved === undefined ? undefined : parseAuditHead(saved);
      const result = await hierarchy.verifyAudit(head === undefined ? {} : { head });
      const checked = head === undefined ? '' : ` It still contains the saved head #${head.seq}.`;
      c.out.result(
        { valid: true, ...result, ...(head === undefined ? {} : { savedHead: head }) },
        () =>
          `Audit trail intact: ${result.records} record(s); head ${result.headSeq}:${result.headMac}.${checked} Keep the head outside the database (pass it as --head next time) to detect a truncated tail.`,
      );
    } else {
      throw new KeystrataError('CONFIG_INVALID', 'Usage: keystrata audit list | audit verify [--head <seq>:<mac>]');
    }
  },
};
