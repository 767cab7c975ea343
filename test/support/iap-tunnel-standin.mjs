#!/usr/bin/env node
// Stand-in for `gcloud compute start-iap-tunnel INSTANCE PORT --listen-on-stdin --project=P
// --zone=Z`, the ProxyCommand `npm run infra:inventory` writes for GCP: it checks the arguments
// gcloud would need, records them, and carries stdin/stdout to the twin's SSH port on loopback
// (E2M_IAP_STANDIN_PORT), where Google's IAP would carry them to the VM's port 22.
// E2M_IAP_STANDIN_REFUSE=1 answers as gcloud does when IAP refuses the tunnel.
import { appendFileSync } from 'node:fs';
import { connect } from 'node:net';

const args = process.argv.slice(2);
const [group, verb, instance, port] = args;
const flags = args.slice(4);
/** @param {string} message */
const fail = (message) => {
  process.stderr.write(`ERROR: (gcloud.compute.start-iap-tunnel) ${message}\n`);
  process.exit(1);
};
if (group !== 'compute' || verb !== 'start-iap-tunnel') fail(`unexpected command: ${args.join(' ')}`);
if (!instance || !/^\d+$/.test(port ?? '')) fail('INSTANCE_NAME and INSTANCE_PORT are required');
for (const need of ['--listen-on-stdin', '--project=', '--zone='])
  if (!flags.some((f) => f.startsWith(need))) fail(`${need} is required here`);
if (process.env.E2M_IAP_STANDIN_LOG) appendFileSync(process.env.E2M_IAP_STANDIN_LOG, `${args.join(' ')}\n`);
if (process.env.E2M_IAP_STANDIN_REFUSE === '1') fail("Error while connecting [4033: 'not authorized'].");

const socket = connect(Number(process.env.E2M_IAP_STANDIN_PORT), '127.0.0.1');
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('error', (e) => fail(e.message));
socket.on('close', () => process.exit(0));
