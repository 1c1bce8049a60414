// An application process that keeps writing new values to its rows of segment `s1` until told to
// stop (IPC 'stop'), then reports the last value it committed per row and any error.
import { answer, config, describeError, openHierarchy, openTable } from './child-common.mjs';

const { hierarchy, close } = await openHierarchy(config.cache);
const db = openTable();
const update = db.prepare('UPDATE patients SET ssn = ? WHERE id = ?');
const latest = {};
const errors = [];
let stop = false;
let writes = 0;
process.on('message', (message) => {
  if (message === 'stop') stop = true;
});
// Warm cache: the segment's current DEK is resolved before the rotation starts.
await hierarchy.encryptValue('warm-up', { model: 'Patient', field: 'ssn', recordId: 'warm-up', segment: 's1' });
process.send('ready');
for (let n = 0; !stop; n++) {
  const id = config.ids[n % config.ids.length];
  const value = `${config.name}-${n}`;
  try {
    const ciphertext = await hierarchy.encryptValue(value, { model: 'Patient', field: 'ssn', recordId: id, segment: 's1' });
    update.run(ciphertext, id);
    latest[id] = value;
    writes++;
  } catch (error) {
    errors.push(describeError(error));
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
}
db.close();
await close();
answer({ latest, writes, errors: errors.slice(0, 5), errorCount: errors.length });
process.disconnect();
