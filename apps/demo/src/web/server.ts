import { createServer, type Server } from 'node:http';
import { KeystrataError } from '@keystrata/core';
import type { Clinic } from '../clinic/clinic.js';
import { clinicAction, clinicState } from './actions.js';
import { PAGE } from './page.js';

async function body(req: import('node:http').IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>);
}

/** Serves the page and its JSON API on 127.0.0.1 only. */
export function clinicServer(clinic: Clinic): Server {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  return createServer((req, res) => {
    const send = (status: number, type: string, text: string) => res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(text);
    void (async () => {
      try {
        if (req.method === 'GET' && req.url === '/') return send(200, 'text/html; charset=utf-8', PAGE);
        if (req.method === 'GET' && req.url === '/api/state') return send(200, 'application/json', JSON.stringify(await serial(() => clinicState(clinic))));
        const action = /^\/api\/([a-z-]+)$/.exec(req.url ?? '')?.[1];
        if (req.method === 'POST' && action !== undefined) {
          const input = await body(req);
          return send(200, 'application/json', JSON.stringify({ result: await serial(() => clinicAction(clinic, action, input)) }));
        }
        send(404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND' } }));
      } catch (error) {
        const code = KeystrataError.isInstance(error) ? error.code : 'INTERNAL';
        send(KeystrataError.isInstance(error) ? 409 : 500, 'application/json', JSON.stringify({ error: { code } }));
      }
    })();
  });
}
