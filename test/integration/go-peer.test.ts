import { useEtcd } from '../harness/index.js';
import { describeWithGoPeer, useGoPeer } from '../harness/go-peer.js';

// The harness of the Go interop peer (test/go-peer): how a failing peer shows in a test.
const suite = useEtcd();
const go = useGoPeer(() => [suite.etcd.endpoint]);

describeWithGoPeer('the Go peer harness', () => {
  it('fails start() with the usage when the subcommand does not exist', async () => {
    await expect(go.start('no-such-subcommand')).rejects.toThrow(/ended \(2\) before printing another line; stderr:\nusage: go-peer/);
  });

  it('fails next() and finish() with the exit code and stderr of a peer that failed', async () => {
    const peer = await go.start('queue', 'go-peer-test');
    peer.send('bogus');
    await expect(peer.next()).rejects.toThrow(/ended \(1\)[^]*unknown command "bogus"/);
    peer.send('written after the end');
    await expect(peer.finish()).rejects.toThrow('did not exit cleanly (1)');
  });
});
