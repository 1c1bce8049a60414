// Splits a V8 .cpuprofile's samples by owner: each sample goes to the nearest frame (leaf first) that
// belongs to a workspace package (packages/<name>) or a dependency (node_modules/<name>); Node's own
// internals (node:crypto, node:buffer…) count for the code that called them. GC and idle stay apart.
// Usage: node scripts/cpuprofile-share.mjs <file.cpuprofile> [frames-of-a-package-to-list]
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const detail = process.argv[3];
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function ownerOf(url) {
  const pkg = /\/packages\/([^/]+)\//.exec(url);
  if (pkg && !url.includes('node_modules')) return `@keystrata/${pkg[1]}`;
  const dep = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return dep ? dep[1] : undefined;
}

const owners = new Map();
const frames = new Map();
const dt = profile.timeDeltas;
profile.samples.forEach((id, i) => {
  let owner;
  let frame;
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const { url, functionName, lineNumber } = byId.get(n).callFrame;
    owner = ownerOf(url);
    if (owner !== undefined) {
      frame = `${functionName || '(anonymous)'} ${url.replace(/^.*\/packages\//, 'packages/')}:${lineNumber + 1}`;
      break;
    }
  }
  const name = owner ?? byId.get(id).callFrame.functionName ?? '(other)';
  owners.set(name, (owners.get(name) ?? 0) + (dt[i] ?? 0));
  if (owner === detail) frames.set(frame, (frames.get(frame) ?? 0) + (dt[i] ?? 0));
});
const total = [...owners.values()].reduce((a, b) => a + b, 0);
for (const [key, us] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
if (detail !== undefined) {
  console.log(`\n${detail}, by frame (its calls into Node internals included):`);
  for (const [key, us] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}
