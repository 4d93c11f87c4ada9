// SPDX-License-Identifier: Apache-2.0
// MQTT.js against Midge over ws:// or wss://: QoS 0, 1 and 2 both ways, a retained
// message, and a persistent session that keeps a QoS 1 message while its client is away.
// Prints one "PASS name" line per scenario and exits 0, or prints "FAIL name: why" and
// exits 1. Run by tests/websockets/client_test.cpp, which starts the broker.
//
//   node mqttjs_clients.cjs MODULES_DIR URL PROTOCOL_VERSION [CA_FILE]
'use strict';
const path = require('path');
const fs = require('fs');

const [modulesDir, url, versionText, caFile] = process.argv.slice(2);
const mqtt = require(path.resolve(modulesDir, 'mqtt'));
const protocolVersion = Number(versionText);
const tag = `${url.startsWith('wss') ? 'wss' : 'ws'}-v${protocolVersion}`;
const tls = caFile ? { ca: fs.readFileSync(caFile), rejectUnauthorized: true } : {};

function connect(clientId, extra = {}) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId, protocolVersion, reconnectPeriod: 0, connectTimeout: 5000, ...tls, ...extra,
    });
    client.once('connect', (connack) => resolve({ client, connack }));
    client.once('error', reject);
    client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
  });
}

function nextMessage(client, topic, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${topic}`)), timeoutMs);
    client.on('message', function onMessage(t, payload, packet) {
      if (t !== topic) return;
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      resolve({ payload: payload.toString(), packet });
    });
  });
}

const end = (client) => new Promise((resolve) => client.end(false, {}, resolve));

async function qosRoundTrip(qos) {
  const topic = `js/${tag}/qos${qos}`;
  const { client: sub } = await connect(`sub-${tag}-${qos}`);
  const granted = await sub.subscribeAsync(topic, { qos });
  if (granted[0].qos !== qos) throw new Error(`granted QoS ${granted[0].qos}, asked ${qos}`);
  const { client: pub } = await connect(`pub-${tag}-${qos}`);
  const arrival = nextMessage(sub, topic);
  // A payload larger than one TCP segment and one wslay read buffer.
  const payload = `q${qos}-` + 'x'.repeat(70000);
  await pub.publishAsync(topic, payload, { qos });
  const message = await arrival;
  if (message.payload !== payload) throw new Error('payload changed on the way');
  if (message.packet.qos !== qos) throw new Error(`delivered at QoS ${message.packet.qos}`);
  await end(pub);
  await end(sub);
}

async function retained() {
  const topic = `js/${tag}/retained`;
  const { client: pub } = await connect(`retain-pub-${tag}`);
  await pub.publishAsync(topic, 'kept', { qos: 1, retain: true });
  await end(pub);
  const { client: sub } = await connect(`retain-sub-${tag}`);
  const arrival = nextMessage(sub, topic);
  await sub.subscribeAsync(topic, { qos: 1 });
  const message = await arrival;
  if (message.payload !== 'kept' || !message.packet.retain) {
    throw new Error(`got '${message.payload}' retain=${message.packet.retain}`);
  }
  await end(sub);
}

async function persistentSession() {
  const topic = `js/${tag}/session`;
  const clientId = `durable-${tag}`;
  const sessionOptions = protocolVersion === 5
    ? { clean: false, properties: { sessionExpiryInterval: 300 } } : { clean: false };
  // Start from no session, whatever an earlier run left.
  const { client: first } = await connect(clientId, { clean: true });
  await end(first);
  const { client: away } = await connect(clientId, sessionOptions);
  await away.subscribeAsync(topic, { qos: 1 });
  await end(away);
  const { client: pub } = await connect(`session-pub-${tag}`);
  await pub.publishAsync(topic, 'while-away', { qos: 1 });
  await end(pub);
  // The queued message may arrive right after CONNACK: listen before connecting.
  const back = mqtt.connect(url, {
    clientId, protocolVersion, reconnectPeriod: 0, ...tls, ...sessionOptions,
  });
  const arrival = nextMessage(back, topic);
  const connack = await new Promise((resolve, reject) => {
    back.once('connect', resolve);
    back.once('error', reject);
  });
  if (!connack.sessionPresent) throw new Error('CONNACK says no session present');
  const message = await arrival;
  if (message.payload !== 'while-away') throw new Error(`got '${message.payload}'`);
  await end(back);
}

async function main() {
  const scenarios = [
    ['qos0', () => qosRoundTrip(0)],
    ['qos1', () => qosRoundTrip(1)],
    ['qos2', () => qosRoundTrip(2)],
    ['retained', retained],
    ['persistent-session', persistentSession],
  ];
  for (const [name, run] of scenarios) {
    try {
      await run();
      console.log(`PASS ${name}`);
    } catch (error) {
      console.log(`FAIL ${name}: ${error && error.message ? error.message : error}`);
      process.exit(1);
    }
  }
  process.exit(0);
}

setTimeout(() => { console.log('FAIL: the run took longer than 60 s'); process.exit(1); }, 60000);
main();
