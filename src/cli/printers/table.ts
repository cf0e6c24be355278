import Table from 'cli-table3';
import { hashTable, healthTable, memberTable, out, statusTable, UnsupportedPrinter, type EndpointHashKV, type EndpointHealth, type EndpointStatus, type Members } from './printer.js';

function render({ header, rows }: { header: string[]; rows: string[][] }): void {
  const table = new Table({ head: header.map((h) => h.toUpperCase()), style: { head: [], border: [] } });
  table.push(...rows);
  out(table.toString() + '\n');
}

/** etcdctl's `-w table`: member list and endpoint results as a bordered table. */
export class TablePrinter extends UnsupportedPrinter {
  constructor() {
    super('table');
  }
  override memberList(r: Members): void {
    render(memberTable(r.members));
  }
  override endpointHealth(list: EndpointHealth[]): void {
    render(healthTable(list));
  }
  override endpointStatus(list: EndpointStatus[]): void {
    render(statusTable(list));
  }
  override endpointHashKV(list: EndpointHashKV[]): void {
    render(hashTable(list));
  }
}
