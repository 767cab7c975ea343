// Pure: GCP's metadata server inside the twin. What it serves (the values of terraform/compute.tf's
// metadata block, its startup script and service account), and the steps that start it: the
// server (server.py) in a network namespace of its own behind a veth pair, so 169.254.169.254 is
// off-host for the VM as on GCP, and traffic from the VM's containers to it is forwarded (and
// dropped by the firewall) exactly as there. Then what reads it on a VM, as there: Debian's
// google-guest-agent (the admin user and its key from `ssh-keys`, host keys published as guest
// attributes) and its script runner (the startup script from `startup-script`).
import { execIn, type Step, type TwinConfig } from '../plan.ts';

export const METADATA_ADDRESS = '169.254.169.254';
const DIR = '/usr/local/lib/twin-metadata';
const TREE = '/etc/twin-metadata/metadata.json';
const GUEST_ATTRIBUTES = '/var/lib/twin-metadata/guest-attributes.json';
const UNIT = 'twin-metadata.service';
const URL_BASE = 'http://metadata.google.internal/computeMetadata/v1';
const CURL = `curl -fsS --max-time 5 -H 'Metadata-Flavor: Google'`;

/** The twin's ed25519 host key as the agent published it, for known_hosts (pinned as on GCP). */
export const HOST_KEY_URL = `${URL_BASE}/instance/guest-attributes/hostkeys/ssh-ed25519`;
export const hostKeyArgv = (cfg: TwinConfig) => execIn(cfg, ['sh', '-c', `${CURL} ${HOST_KEY_URL}`]);

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
ExecStart=/usr/sbin/ip netns exec gce-metadata /usr/bin/python3 ${DIR}/server.py ${TREE} ${METADATA_ADDRESS} 80 ${GUEST_ATTRIBUTES}
StateDirectory=twin-metadata
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;

/** GCP's metadata server is there before a VM boots; the twin's is a unit the agents must wait for. */
export const AGENT_UNITS = ['google-guest-agent.service', 'google-startup-scripts.service'];
export const AGENT_DROP_IN = `# Managed by twin up (scripts/lib/twin/metadata/plan.ts): twin only.
[Unit]
Wants=${UNIT}
After=${UNIT}
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
    ...AGENT_UNITS.map((unit) =>
      put(
        cfg,
        `order ${unit} after ${UNIT}`,
        `/etc/systemd/system/${unit}.d/10-twin-metadata.conf`,
        '0644',
        AGENT_DROP_IN,
      ),
    ),
    {
      kind: 'run',
      title: "start the guest agent (google-guest-agent, Debian's package)",
      argv: execIn(cfg, [
        'sh',
        '-c',
        `systemctl daemon-reload && systemctl enable --quiet ${AGENT_UNITS.join(' ')} && systemctl start ${AGENT_UNITS[0]}`,
      ]),
    },
    {
      kind: 'wait',
      title: `wait for the agent to create ${cfg.user} with the keys of the metadata ssh-keys`,
      argv: execIn(cfg, [
        'sh',
        '-c',
        `set -eu; u=$1; f=/home/$u/.ssh/authorized_keys; keys=$(${CURL} ${URL_BASE}/instance/attributes/ssh-keys | sed -n "s/^$u://p")
[ -n "$keys" ] && [ -f "$f" ] && printf '%s\\n' "$keys" | while IFS= read -r k; do grep -qxF -- "$k" "$f" || exit 1; done`,
        'sh',
        cfg.user,
      ]),
      timeoutMs: 30_000,
      intervalMs: 250,
    },
    {
      kind: 'wait',
      title: 'wait for the agent to publish the host keys (guest attributes hostkeys/)',
      argv: execIn(cfg, ['sh', '-c', `${CURL} -o /dev/null ${HOST_KEY_URL}`]),
      timeoutMs: 30_000,
      intervalMs: 250,
    },
    // GCP's script runner, from the same package: the startup script as the metadata gives it,
    // run as root, once a boot. The runner exits 0 whatever the script does; its log says.
    {
      kind: 'run',
      title: 'run the startup script from the metadata (terraform/startup.sh.tftpl, rendered)',
      argv: execIn(cfg, [
        'sh',
        '-c',
        `set -eu; u=${AGENT_UNITS[1]}; systemctl start "$u"
id=$(systemctl show -p InvocationID --value "$u")
journalctl -o cat _SYSTEMD_INVOCATION_ID="$id" | grep -qx 'startup-script exit status 0' || {
  journalctl -o cat _SYSTEMD_INVOCATION_ID="$id" >&2; exit 1; }`,
      ]),
    },
  ];
}
