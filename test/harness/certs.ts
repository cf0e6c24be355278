import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throwaway CA, and a server and client certificate it signed. */
export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * Makes a self-signed CA with openssl, and server (for 127.0.0.1, localhost and the extra
 * `dnsNames`) and client certificates signed by it.
 */
export async function makeCerts(dnsNames: string[] = []): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'nice-etcd-tls-'));
  const file = (name: string) => join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=nice-etcd test CA']);
  for (const who of ['server', 'client']) {
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${who}.key`), '-out', file(`${who}.csr`), '-subj', `/CN=${who}`]);
    await writeFile(file(`${who}.ext`), `subjectAltName=IP:127.0.0.1,DNS:localhost${dnsNames.map((n) => `,DNS:${n}`).join('')}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    await run('openssl', ['x509', '-req', '-in', file(`${who}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file(`${who}.pem`), '-days', '2', '-extfile', file(`${who}.ext`)]);
  }
  return { dir, ca: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server.key'), clientCert: file('client.pem'), clientKey: file('client.key') };
}
