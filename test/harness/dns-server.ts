import { type RemoteInfo, type Socket, createSocket } from 'node:dgram';

/** One SRV record the test DNS server answers with. */
export interface TestSrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

const type = { A: 1, AAAA: 28, SRV: 33 } as const;
const classIn = 1;
const ttl = 1;

/**
 * A small authoritative DNS responder over UDP on 127.0.0.1 (Node's dgram, RFC 1035 wire
 * format), for discovery tests: it answers SRV and A queries from records the test sets (and
 * may change while a client runs), AAAA with no data for known names, NXDOMAIN otherwise. Point
 * a client at it with `dnsServers: [server.address]`. Counts queries per name.
 */
export class TestDnsServer {
  readonly #srv = new Map<string, TestSrvRecord[]>();
  readonly #a = new Map<string, string[]>();
  readonly #queries = new Map<string, number>();

  private constructor(
    private readonly socket: Socket,
    /** `127.0.0.1:<port>`, for `dnsServers`. */
    readonly address: string,
  ) {
    socket.on('message', (message, remote) => this.#answer(message, remote));
  }

  /** Starts a server on a free UDP port of 127.0.0.1. */
  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new TestDnsServer(socket, `127.0.0.1:${socket.address().port}`);
  }

  /** Sets (replaces) the SRV records of `name`, e.g. `_etcd-client._tcp.etcd.test`; an empty list removes them. */
  setSrv(name: string, records: TestSrvRecord[]): void {
    if (records.length === 0) this.#srv.delete(name.toLowerCase());
    else this.#srv.set(name.toLowerCase(), records);
  }

  /** Sets (replaces) the IPv4 addresses of a host name. */
  setA(name: string, ...addresses: string[]): void {
    this.#a.set(name.toLowerCase(), addresses);
  }

  /** How many queries (any type) arrived for `name`. */
  queries(name: string): number {
    return this.#queries.get(name.toLowerCase()) ?? 0;
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  #answer(message: Buffer, remote: RemoteInfo): void {
    let question;
    try {
      question = parseQuestion(message);
    } catch {
      return; // not a query we can read: stay silent, as a server would on garbage
    }
    const { id, name, qtype, end } = question;
    const key = name.toLowerCase();
    this.#queries.set(key, (this.#queries.get(key) ?? 0) + 1);
    const answers: Buffer[] = [];
    const srv = this.#srv.get(key);
    const a = this.#a.get(key);
    if (qtype === type.SRV && srv) {
      for (const r of srv) {
        const target = encodeName(r.target);
        const data = Buffer.alloc(6);
        data.writeUInt16BE(r.priority ?? 0, 0);
        data.writeUInt16BE(r.weight ?? 0, 2);
        data.writeUInt16BE(r.port, 4);
        answers.push(record(type.SRV, Buffer.concat([data, target])));
      }
    } else if (qtype === type.A && a) {
      for (const ip of a) answers.push(record(type.A, Buffer.from(ip.split('.').map(Number))));
    }
    const known = srv !== undefined || a !== undefined;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    // QR (response), AA (authoritative), RD copied as set, RA; RCODE 3 (NXDOMAIN) for unknown names.
    header.writeUInt16BE(0x8000 | 0x0400 | (message.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const response = Buffer.concat([header, message.subarray(12, end), ...answers]);
    this.socket.send(response, remote.port, remote.address);
  }
}

/** A resource record for the question's name (a pointer to offset 12), class IN. */
function record(rrType: number, data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0);
  head.writeUInt16BE(rrType, 2);
  head.writeUInt16BE(classIn, 4);
  head.writeUInt32BE(ttl, 6);
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

function parseQuestion(message: Buffer): { id: number; name: string; qtype: number; end: number } {
  const id = message.readUInt16BE(0);
  if (message.readUInt16BE(4) !== 1) throw new Error('expected one question');
  const labels: string[] = [];
  let offset = 12;
  for (let length = message[offset]!; length !== 0; length = message[offset]!) {
    if (length > 63) throw new Error('compressed or bad label');
    labels.push(message.toString('ascii', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  offset += 1;
  const qtype = message.readUInt16BE(offset);
  return { id, name: labels.join('.'), qtype, end: offset + 4 };
}
