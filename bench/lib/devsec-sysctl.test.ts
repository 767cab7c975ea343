import { describe, expect, it } from 'vitest';
import { judge, parseSysctl, SYSCTL_CONTROLS, SYSCTL_KEYS } from './devsec-sysctl.ts';

/** Every key at the first value dev-sec accepts. */
const passing = Object.fromEntries(
  SYSCTL_CONTROLS.flatMap((c) =>
    Object.entries(c.expect).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]),
  ),
);

describe('dev-sec sysctl controls', () => {
  it('passes every control when each key has the value dev-sec wants', () => {
    expect(judge(passing).filter((v) => v.result !== 'pass')).toEqual([]);
    expect(SYSCTL_CONTROLS).toHaveLength(32);
    expect(SYSCTL_KEYS).toContain('net.ipv6.conf.default.max_addresses');
  });

  it('names the key, its value and what dev-sec wants; a justified control is told apart', () => {
    const verdicts = judge({ ...passing, 'net.ipv4.ip_forward': '1', 'fs.protected_regular': '1' });
    expect(verdicts.filter((v) => v.result !== 'pass')).toEqual([
      {
        id: 'sysctl-01',
        title: 'IPv4 forwarding',
        result: 'justified',
        detail: 'net.ipv4.ip_forward=1 (dev-sec: 0)',
      },
      {
        id: 'sysctl-34',
        title: 'link and FIFO protection',
        result: 'fail',
        detail: 'fs.protected_regular=1 (dev-sec: 2)',
      },
    ]);
  });

  it('fails a control whose key the kernel does not have, and accepts any of several values', () => {
    const { 'kernel.sysrq': _, ...without } = passing;
    expect(judge(without).find((v) => v.id === 'sysctl-30')).toMatchObject({
      result: 'fail',
      detail: 'kernel.sysrq=absent (dev-sec: 0)',
    });
    expect(judge({ ...passing, 'fs.suid_dumpable': '2' }).find((v) => v.id === 'sysctl-31a')?.result).toBe(
      'pass',
    );
  });

  it('reads `sysctl KEY...` output', () => {
    expect(
      parseSysctl(
        'kernel.sysrq = 0\nnet.ipv4.icmp_ratemask = 88089\nsysctl: cannot stat /proc/sys/x: No such file\n',
      ),
    ).toEqual({
      'kernel.sysrq': '0',
      'net.ipv4.icmp_ratemask': '88089',
    });
  });
});
