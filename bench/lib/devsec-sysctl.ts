// Pure: the dev-sec linux-baseline controls only a kernel of its own can judge: its sysctl
// controls (controls/sysctl_spec.rb), all but sysctl-31b, which applies only when
// fs.suid_dumpable is 2 (ours is 0), and sysctl-33, the CPU's NX flag (read from /proc/cpuinfo
// instead), as data, and the verdict for values read from a machine.
// bench/hardening-kernel.ts reads the values on the kernel twin; docs/setup.md has the table.

/** What a value must be: one number, or one of several. */
type Want = number | number[];

export interface Control {
  id: string;
  title: string;
  expect: Record<string, Want>;
}

export const SYSCTL_CONTROLS: Control[] = [
  {
    id: 'sysctl-01',
    title: 'IPv4 forwarding',
    expect: { 'net.ipv4.ip_forward': 0, 'net.ipv4.conf.all.forwarding': 0 },
  },
  {
    id: 'sysctl-02',
    title: 'reverse path filtering',
    expect: { 'net.ipv4.conf.all.rp_filter': 1, 'net.ipv4.conf.default.rp_filter': 1 },
  },
  {
    id: 'sysctl-03',
    title: 'ICMP bogus error responses',
    expect: { 'net.ipv4.icmp_ignore_bogus_error_responses': 1 },
  },
  { id: 'sysctl-04', title: 'ICMP echo broadcasts', expect: { 'net.ipv4.icmp_echo_ignore_broadcasts': 1 } },
  { id: 'sysctl-05', title: 'ICMP rate limit', expect: { 'net.ipv4.icmp_ratelimit': 100 } },
  { id: 'sysctl-06', title: 'ICMP rate mask', expect: { 'net.ipv4.icmp_ratemask': 88089 } },
  { id: 'sysctl-07', title: 'TCP timestamps', expect: { 'net.ipv4.tcp_timestamps': 0 } },
  { id: 'sysctl-08', title: 'ARP ignore', expect: { 'net.ipv4.conf.all.arp_ignore': [1, 2] } },
  { id: 'sysctl-09', title: 'ARP announce', expect: { 'net.ipv4.conf.all.arp_announce': 2 } },
  { id: 'sysctl-10', title: 'TCP RFC 1337', expect: { 'net.ipv4.tcp_rfc1337': 1 } },
  { id: 'sysctl-11', title: 'SYN cookies', expect: { 'net.ipv4.tcp_syncookies': 1 } },
  {
    id: 'sysctl-12',
    title: 'shared media',
    expect: { 'net.ipv4.conf.all.shared_media': 1, 'net.ipv4.conf.default.shared_media': 1 },
  },
  {
    id: 'sysctl-13',
    title: 'source routing',
    expect: {
      'net.ipv4.conf.all.accept_source_route': 0,
      'net.ipv4.conf.default.accept_source_route': 0,
      'net.ipv6.conf.all.accept_source_route': 0,
      'net.ipv6.conf.default.accept_source_route': 0,
    },
  },
  {
    id: 'sysctl-14',
    title: 'IPv4 redirects',
    expect: { 'net.ipv4.conf.default.accept_redirects': 0, 'net.ipv4.conf.all.accept_redirects': 0 },
  },
  {
    id: 'sysctl-15',
    title: 'secure redirects',
    expect: { 'net.ipv4.conf.all.secure_redirects': 0, 'net.ipv4.conf.default.secure_redirects': 0 },
  },
  {
    id: 'sysctl-16',
    title: 'sending redirects',
    expect: { 'net.ipv4.conf.default.send_redirects': 0, 'net.ipv4.conf.all.send_redirects': 0 },
  },
  {
    id: 'sysctl-17',
    title: 'log martians',
    expect: { 'net.ipv4.conf.all.log_martians': 1, 'net.ipv4.conf.default.log_martians': 1 },
  },
  { id: 'sysctl-19', title: 'IPv6 forwarding', expect: { 'net.ipv6.conf.all.forwarding': 0 } },
  {
    id: 'sysctl-20',
    title: 'IPv6 redirects',
    expect: { 'net.ipv6.conf.default.accept_redirects': 0, 'net.ipv6.conf.all.accept_redirects': 0 },
  },
  {
    id: 'sysctl-21',
    title: 'IPv6 router solicitations',
    expect: { 'net.ipv6.conf.default.router_solicitations': 0 },
  },
  {
    id: 'sysctl-22',
    title: 'RA router preference',
    expect: { 'net.ipv6.conf.default.accept_ra_rtr_pref': 0 },
  },
  { id: 'sysctl-23', title: 'RA prefix information', expect: { 'net.ipv6.conf.default.accept_ra_pinfo': 0 } },
  { id: 'sysctl-24', title: 'RA default router', expect: { 'net.ipv6.conf.default.accept_ra_defrtr': 0 } },
  {
    id: 'sysctl-25',
    title: 'router advertisements',
    expect: { 'net.ipv6.conf.all.accept_ra': 0, 'net.ipv6.conf.default.accept_ra': 0 },
  },
  { id: 'sysctl-26', title: 'IPv6 autoconfiguration', expect: { 'net.ipv6.conf.default.autoconf': 0 } },
  {
    id: 'sysctl-27',
    title: 'duplicate address detection',
    expect: { 'net.ipv6.conf.default.dad_transmits': 0 },
  },
  {
    id: 'sysctl-28',
    title: 'IPv6 addresses per interface',
    expect: { 'net.ipv6.conf.default.max_addresses': 1 },
  },
  {
    id: 'sysctl-29',
    title: 'module loading (dev-sec default: allowed)',
    expect: { 'kernel.modules_disabled': 0 },
  },
  { id: 'sysctl-30', title: 'magic SysRq', expect: { 'kernel.sysrq': 0 } },
  { id: 'sysctl-31a', title: 'set-id core dumps', expect: { 'fs.suid_dumpable': [0, 2] } },
  { id: 'sysctl-32', title: 'address space randomisation', expect: { 'kernel.randomize_va_space': 2 } },
  {
    id: 'sysctl-34',
    title: 'link and FIFO protection',
    expect: {
      'fs.protected_fifos': [1, 2],
      'fs.protected_hardlinks': 1,
      'fs.protected_regular': 2,
      'fs.protected_symlinks': 1,
    },
  },
];

/** Ours where we differ from dev-sec on purpose, one line each (docs/setup.md repeats them). */
export const JUSTIFIED: Record<string, string> = {
  'sysctl-01':
    "Docker's bridge needs IPv4 forwarding (dev-sec's own sysctl_forwarding input exists for this); nftables drops forwarded traffic that Docker did not publish",
};

export const SYSCTL_KEYS = [...new Set(SYSCTL_CONTROLS.flatMap((c) => Object.keys(c.expect)))].sort();

export type Verdict = { id: string; title: string; result: 'pass' | 'justified' | 'fail'; detail: string };

/** `values`: key → value as `sysctl -n` printed it (absent: the kernel has no such key). */
export function judge(values: Record<string, string | undefined>, justified = JUSTIFIED): Verdict[] {
  return SYSCTL_CONTROLS.map((c) => {
    const wrong = Object.entries(c.expect).filter(([key, want]) => {
      const got = values[key];
      return got === undefined || !(Array.isArray(want) ? want : [want]).includes(Number(got));
    });
    const detail = wrong
      .map(([key, want]) => `${key}=${values[key] ?? 'absent'} (dev-sec: ${want})`)
      .join(', ');
    if (wrong.length === 0) return { id: c.id, title: c.title, result: 'pass', detail: '' };
    return { id: c.id, title: c.title, result: justified[c.id] ? 'justified' : 'fail', detail };
  });
}

/** `sysctl KEY...` output (`key = value` lines) into a map; keys it could not read stay absent. */
export function parseSysctl(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([\w.-]+) = (.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}
