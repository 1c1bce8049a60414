import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/web/main.js', import.meta.url));
const CHROMIUM = [process.env.KEYSTRATA_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && existsSync(p));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('the demo web page (pnpm demo:web) in headless Chromium', () => {
  let server: ChildProcess;
  let browser: Browser;
  let url: string;
  beforeAll(async () => {
    expect(CHROMIUM, 'Chromium is installed by scripts/setup (Debian package chromium)').toBeDefined();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    server = spawn(process.execPath, [MAIN, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Keystrata clinic on') && resolve());
      server.once('exit', (code) => reject(new Error(`web server exited with ${code}`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
  });

  it('shows the key tree and patients, and shreds a patient with a click', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await page.waitForSelector('tr[data-patient="Ada Lovelace"]');
    expect(await page.locator('#tree').innerText()).toMatch(/keyring clinic-north[\s\S]*CMK v1[\s\S]*KEK v1[\s\S]*DEK of Ada Lovelace v1/);
    const ada = page.locator('tr[data-patient="Ada Lovelace"]');
    expect(await ada.locator('td.ssn').innerText()).toBe('123-45-6789');
    expect(await ada.locator('td.raw').innerText()).toMatch(/^ks1\./);
    await page.locator('button[data-action="rotate-cmk"][data-keyring="clinic-north"]').click();
    await page.waitForFunction(() => document.querySelector('#tree')?.textContent?.includes('CMK v2'));
    await ada.locator('button[data-action="shred"]').click();
    await page.waitForFunction(() => document.querySelector('tr[data-patient="Ada Lovelace"] td.ssn')?.textContent?.includes('KEY_DESTROYED'));
    expect(await page.locator('tr[data-patient="Grace Hopper"] td.ssn').innerText()).toBe('234-56-7890');
    expect(await page.locator('#tree').innerText()).toMatch(/destroyed/);
    expect(await page.locator('#audit').innerText()).toMatch(/verified: \d+ records/);
    const shot = process.env.KEYSTRATA_SCREENSHOT;
    if (shot) {
      mkdirSync(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot, fullPage: true });
    }
    const screenshot = await page.screenshot();
    expect(screenshot.length).toBeGreaterThan(10_000);
  });
});
