// Pure: GCP's metadata server inside the twin. What it serves (the values of terraform/compute.tf's
// metadata block, its startup script and service account), and the steps that start it: the
// server (server.py) in a network namespace of its own behind a veth pair, so 169.254.169.254 is
// off-host for the VM as on GCP, and traffic from the VM's containers to it is forwarded (and
// dropped by the firewall) exactly as there. Then the guest agent's and the script runner's work
// read from it: the admin key from `ssh-keys`, the startup script from `startup-script`.
import { execIn, type Step, type TwinConfig } from '../plan.ts';

export const METADATA_ADDRESS = '169.254.169.254';
const DIR = '/usr/local/lib/twin-metadata';
const TREE = '/etc/twin-metadata/metadata.json';
const UNIT = 'twin-metadata.service';
const URL_BASE = 'http://metadata.google.internal/computeMetadata/v1';
const CURL = `curl -fsS --max-time 5 -H 'Metadata-Flavor: Google'`;

/** As compute.tf sets them; e2e 10 checks that the keys match its metadata block. */
export function metadataTree(cfg: TwinConfig, publicKey: string, startupScript: string) {
  const numeric = '100000000001';
  const email = `e2m-${cfg.env}-vm@${cfg.projectId}.iam.gserviceaccount.com`;
  const account = { email, scopes: ['https://www.googleapis.com/auth/cloud-platform'], aliases: ['default'] };
  return {
    project: { 'project-id': cfg.projectId, 'numeric-project-id': numeric, attributes: {} },
    instance: {
      name: cfg.hostname,
      hostname: `${cfg.hostname}.c.${cfg.projectId}.internal`,
      id: '1000000000000000001',
      zone: `projects/${numeric}/zones/us-central1-a`,
      'machine-type': `projects/${numeric}/machineTypes/e2-micro`,
      attributes: {
        'ssh-keys': `${cfg.user}:${publicKey.trim()}`,
        'block-project-ssh-keys': 'true',
        'serial-port-enable': 'false',
        'enable-guest-attributes': 'TRUE',
        'enable-oslogin': 'false',
        'startup-script': startupScript,
      },
      'service-accounts': { default: account, [email]: account },
    },
  };
}

/** Idempotent: the namespace, the veth pair and the name, as test 47 once built for itself. */
export const NETNS_SCRIPT = `#!/bin/sh
# Managed by twin up (scripts/lib/twin/metadata/plan.ts): the metadata server's own network.
set -eu
ip netns add gce-metadata 2>/dev/null || true
ip link show gce-md0 >/dev/null 2>&1 || ip link add gce-md0 type veth peer name gce-md1 netns gce-metadata
ip addr replace 169.254.169.253/30 dev gce-md0
ip link set gce-md0 up
ip -n gce-metadata link set lo up
ip -n gce-metadata addr replace ${METADATA_ADDRESS}/30 dev gce-md1
ip -n gce-metadata link set gce-md1 up
ip -n gce-metadata route replace default via 169.254.169.253
grep -q ' metadata.google.internal' /etc/hosts || printf '%s\\n' '${METADATA_ADDRESS} metadata.google.internal metadata' >> /etc/hosts
`;

export const METADATA_UNIT = `# Managed by twin up (scripts/lib/twin/metadata/plan.ts).
[Unit]
Description=GCP metadata server stand-in at ${METADATA_ADDRESS} (twin only)
After=network.target twin-hosts-file.service

[Service]
ExecStartPre=${DIR}/netns.sh
ExecStart=/usr/sbin/ip netns exec gce-metadata /usr/bin/python3 ${DIR}/server.py ${TREE} ${METADATA_ADDRESS} 80
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;

const put = (cfg: TwinConfig, title: string, path: string, mode: string, input: string): Step => ({
  kind: 'run',
  title,
  argv: execIn(cfg, ['sh', '-c', `install -D -m ${mode} /dev/stdin ${path}`], true),
  input,
});

/** The server up and answering, then the admin key and the startup script read from it
 * (twin/execute.ts puts these between the boot and the GCS emulator's wait). */
export function metadataSteps(cfg: TwinConfig, serverPy: string, tree: unknown): Step[] {
  return [
    put(cfg, 'install the metadata server stand-in', `${DIR}/server.py`, '0755', serverPy),
    put(cfg, 'install its network namespace script', `${DIR}/netns.sh`, '0755', NETNS_SCRIPT),
    put(cfg, "write the metadata (compute.tf's values)", TREE, '0600', `${JSON.stringify(tree, null, 2)}\n`),
    put(cfg, `install ${UNIT}`, `/etc/systemd/system/${UNIT}`, '0644', METADATA_UNIT),
    {
      kind: 'run',
      title: `start ${UNIT} (${METADATA_ADDRESS}, metadata.google.internal)`,
      argv: execIn(cfg, [
        'sh',
        '-c',
        `systemctl daemon-reload && systemctl enable --quiet ${UNIT} && systemctl restart ${UNIT}`,
      ]),
    },
    {
      kind: 'wait',
      title: 'wait for the metadata server to answer',
      argv: execIn(cfg, ['sh', '-c', `${CURL} ${URL_BASE}/project/project-id`]),
      expect: cfg.projectId,
      timeoutMs: 15_000,
      intervalMs: 200,
    },
    {
      kind: 'run',
      title: `install ${cfg.user}'s key from the metadata ssh-keys (as GCP's guest agent does)`,
      argv: execIn(cfg, [
        'sh',
        '-c',
        `set -eu; u=$1; keys=$(${CURL} ${URL_BASE}/instance/attributes/ssh-keys | sed -n "s/^$u://p"); [ -n "$keys" ]
umask 077; printf '%s\\n' "$keys" > "/home/$u/.ssh/authorized_keys"; chown "$u:" "/home/$u/.ssh/authorized_keys"`,
        'sh',
        cfg.user,
      ]),
    },
    // GCP's script runner: the startup script as the metadata server gives it, run as root.
    {
      kind: 'run',
      title: 'run the startup script from the metadata (terraform/startup.sh.tftpl, rendered)',
      argv: execIn(cfg, [
        'sh',
        '-c',
        `set -eu; ${CURL} ${URL_BASE}/instance/attributes/startup-script > /run/startup-script; exec bash /run/startup-script`,
      ]),
    },
  ];
}
