// A process that rotates (config.mode: 'cmk' | 'kek' | 'dek' | 'provision'), optionally starting at config.goAt
// (epoch ms, for races) and SIGKILLing itself at a named progress step (config.killAt).
import { answer, config, describeError, openHierarchy, openTable, tableHook } from './child-common.mjs';

const { hierarchy, close } = await openHierarchy();
const onProgress = (p) => {
  if (config.killAt !== undefined && p.phase === config.killAt.phase && p.done === config.killAt.done) process.kill(process.pid, 'SIGKILL');
};
if (config.goAt !== undefined) await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.goAt - Date.now())));
let db;
try {
  if (config.mode === 'cmk') {
    answer({ ok: true, result: await hierarchy.rotateCmk({ onProgress }) });
  } else if (config.mode === 'provision') {
    answer({ ok: true, result: await hierarchy.provision() });
  } else if (config.mode === 'kek') {
    answer({ ok: true, result: await hierarchy.rotateKek({ onProgress }) });
  } else {
    db = openTable();
    const { hook, counter } = tableHook(db);
    const result = await hierarchy.rotateDek({ segment: config.segment, hook, batchSize: 500, oldKeys: config.oldKeys ?? 'keep', onProgress });
    answer({ ok: true, result, rewritten: counter.rewritten });
  }
} catch (error) {
  answer({ ok: false, error: describeError(error) });
} finally {
  db?.close();
  await close();
}
