// Device of captures 23b and 24b: real npm mqtt (mqtt.js) 5.10.1, MQTT 3.1.1 over WebSocket
// (Sec-WebSocket-Protocol: mqtt, path /mqtt): ws://127.0.0.1:80/mqtt (23b, securemode=3) or
// wss://127.0.0.1:443/mqtt (24b, securemode=2; run under `node --tls-keylog=FILE` for the key log).
// In Node, mqtt.js writes each MQTT packet in several pieces (fixed header, lengths, strings,
// payload) and its WebSocket stream turns every piece into its own binary frame.
// CONNECT -> SUBSCRIBE post_reply (QoS 1) -> QoS 1 property post -> PUBACK + platform post_reply ->
// DISCONNECT (client.end()).  The login comes from transport_lab.py (env LOGIN, JSON).
// Usage: LOGIN='<json>' node transport_ws_device.js URL [CA_PEM]
const fs = require('fs')
const mqtt = require('mqtt')
const [url, ca] = process.argv.slice(2)
const L = JSON.parse(process.env.LOGIN)
const log = (...a) => console.error('device:', ...a)
const opts = {
  clientId: L.clientId, username: L.username, password: L.password,
  protocolVersion: 4, clean: true, keepalive: 60, reconnectPeriod: 0,
}
if (ca) { opts.ca = fs.readFileSync(ca); opts.rejectUnauthorized = true }
const c = mqtt.connect(url, opts)
const fail = setTimeout(() => { log('timeout'); process.exit(1) }, 15000)
c.on('connect', () => {
  log('connected', url)
  c.subscribe(L.replyTopic, { qos: 1 }, (err, granted) => {
    if (err) { log('subscribe', err); process.exit(1) }
    log('granted', JSON.stringify(granted))
    setTimeout(() => c.publish(L.postTopic, L.post, { qos: 1 }, (e) => log('puback', e || 'ok')), 200)
  })
})
c.on('message', (topic, payload) => {
  log('got', topic, payload.toString())
  setTimeout(() => c.end(false, () => { clearTimeout(fail); log('done'); }), 200)
})
c.on('error', (e) => { log('error', e.message); process.exit(1) })
