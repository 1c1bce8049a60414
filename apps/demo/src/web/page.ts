/** The demo page: plain HTML and a little script calling the JSON API. */
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keystrata clinic</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111; background: #fafafa; }
  h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 8px; }
  .cols { display: grid; grid-template-columns: 340px minmax(0, 1fr); gap: 24px; align-items: start; }
  .card { background: white; border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px; }
  ul.tree { list-style: none; padding-left: 14px; margin: 2px 0; } ul.tree li { margin: 2px 0; }
  .state { font-size: 11px; padding: 1px 6px; border-radius: 8px; background: #e5e7eb; }
  .primary { background: #dbeafe; } .enabled { background: #dcfce7; } .disabled { background: #fef3c7; } .destroyed, .retired { background: #fee2e2; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
  td.raw { font-family: ui-monospace, monospace; font-size: 11px; color: #555; max-width: 260px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .unreadable { color: #b91c1c; font-weight: 600; } button { font-size: 12px; margin: 1px; }
  #audit.ok { color: #15803d; } #audit.bad { color: #b91c1c; } #message { color: #555; min-height: 1.4em; }
</style></head>
<body>
<h1>Keystrata clinic</h1><div>CMK per tenant in the HSM → KEKs → a DEK per patient. Two tenants: north and south.</div>
<div id="message"></div>
<div class="cols">
  <div class="card"><h2>Key hierarchy</h2><div id="tree"></div><h2>Audit trail</h2><div id="audit"></div></div>
  <div class="card"><h2>Patients: what the application sees / what the database holds</h2>
    <table><thead><tr><th>patient</th><th>tenant</th><th>SSN</th><th>diagnosis</th><th>e-mail</th><th>stored SSN</th><th></th></tr></thead><tbody id="patients"></tbody></table></div>
</div>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const val = (v) => v && typeof v === 'object' && v.unreadable ? '<span class="unreadable">unreadable (' + esc(v.unreadable) + ')</span>' : esc(v);
const badge = (s) => '<span class="state ' + esc(s) + '">' + esc(s) + '</span>';
async function act(action, body) {
  document.getElementById('message').textContent = action + '…';
  const r = await fetch('/api/' + action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  document.getElementById('message').textContent = r.ok ? action + ': done' : action + ': ' + j.error.code;
  await load();
}
async function load() {
  const s = await (await fetch('/api/state')).json();
  document.getElementById('tree').innerHTML = s.keyrings.map((k) =>
    '<div><b>keyring ' + esc(k.keyring) + '</b>' + (k.keyring.startsWith('clinic-') ? ' <button data-action="rotate-cmk" data-keyring="' + esc(k.keyring) + '">Rotate CMK</button><button data-action="rotate-kek" data-keyring="' + esc(k.keyring) + '">Rotate KEK</button>' : ' <i>(blind indexes)</i>') +
    '<ul class="tree">' + k.cmks.map((c) => '<li>CMK v' + c.version + ' ' + badge(c.state) + '<ul class="tree">' +
      k.keks.filter((e) => e.cmkVersion === c.version).map((e) => '<li>KEK v' + e.version + ' ' + badge(e.state) + '<ul class="tree">' +
        k.dekList.filter((d) => d.kek_version === e.version).map((d) => '<li title="' + esc(d.segment) + '">DEK ' + esc(d.patient ? 'of ' + d.patient : d.segment) + ' v' + d.version + ' ' + badge(d.state) + '</li>').join('') + '</ul></li>').join('') +
      '</ul></li>').join('') + '</ul></div>').join('');
  document.getElementById('patients').innerHTML = s.patients.map((p) => '<tr data-patient="' + esc(p.name) + '"><td>' + esc(p.name) + '</td><td>' + esc(p.tenantId) + '</td><td class="ssn">' + val(p.app.ssn) + '</td><td>' + val(p.app.diagnosis) + '</td><td>' + val(p.app.email) + '</td><td class="raw" title="' + esc(p.stored.ssn) + '">' + esc(p.stored.ssn) + '</td><td>' +
    ['rotate-dek', 'revoke', 'enable', 'shred'].map((a) => '<button data-action="' + a + '" data-patient-id="' + esc(p.id) + '">' + { 'rotate-dek': 'Rotate DEK', revoke: 'Revoke', enable: 'Enable', shred: 'Shred' }[a] + '</button>').join('') + '</td></tr>').join('');
  const audit = document.getElementById('audit');
  audit.className = s.audit.valid ? 'ok' : 'bad';
  audit.textContent = s.audit.valid ? 'verified: ' + s.audit.records + ' records, HMAC chain intact' : 'BROKEN: ' + s.audit.code;
}
document.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (b) act(b.dataset.action, { keyring: b.dataset.keyring, patientId: b.dataset.patientId });
});
load();
</script></body></html>`;
