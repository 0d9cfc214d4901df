// hypervisor-log.test.ts: `pvkvm dmesg`'s log — lines per domain, a bound on the whole log and on
// a line a guest never ends (a hostile guest must not grow dom0's memory).
import t from 'tap';
import { HypervisorLog } from '../dom0/toolstack/hypervisor-log.ts';

t.test('lines per domain, completed across writes and flushed at the end', async (t) => {
  const log = new HypervisorLog();
  log.append(1, 'hel');
  log.append(2, 'other\n');
  log.append(1, 'lo\nwor');
  t.equal(log.text(), '(d2) other\n(d1) hello\n');
  log.flush(1);
  t.equal(log.text(), '(d2) other\n(d1) hello\n(d1) wor\n');
  log.clear();
  t.equal(log.text(), '');
});

t.test('a line without an end is cut, and the log stays bounded', async (t) => {
  const log = new HypervisorLog();
  for (let i = 0; i < 1000; i++) log.append(3, 'x'.repeat(1000));
  const text = log.text();
  t.ok(text.length <= 128 * 1024 + 8192, `the log holds ${text.length} bytes`);
  t.ok(text.split('\n').every((l) => l.length <= 4096 + 6), 'no line longer than the cut');
  log.flush(3);
  t.ok(log.text().length <= 128 * 1024 + 8192);
});
