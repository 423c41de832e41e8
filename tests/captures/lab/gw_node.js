// Capture 10: gateway with sub-devices, real npm alibabacloud-iot-device-sdk 1.2.8 (lib/gateway.js).
// Gateway a1GwPkXyz12/lab-gw-01 connects to the lab broker, registers lab-sub-02 (thing/sub/register,
// the platform returns its deviceSecret), adds topology for lab-sub-01 and lab-sub-02, logs both in
// (combine/login), posts a property for lab-sub-01 (-> post_reply), logs lab-sub-02 out, posts for
// lab-sub-02 anyway (-> /ext/error 520 from the platform, no post_reply), logs lab-sub-01 out.
const iot = require('alibabacloud-iot-device-sdk');
const S = {
  gw: { productKey: 'a1GwPkXyz12', deviceName: 'lab-gw-01', deviceSecret: '7c1e5a9d3b2f48e6a0c4d8b2f6e1a301' },
  sub1: { productKey: 'a1SubPk0001', deviceName: 'lab-sub-01', deviceSecret: '5e2b8f1c4a7d90e3b6f2c5a8d1e4b701' },
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('gw_node:', ...a);

const gw = iot.gateway({ ...S.gw, brokerUrl: 'mqtt://127.0.0.1:1883' });
gw.on('message', (t, m) => log('message', t, m.toString().slice(0, 100)));
gw.on('connect', async () => {
  log('connected');
  // the real platform delivers /ext/error without a subscription; mosquitto needs one
  gw.subscribe('/ext/error/a1GwPkXyz12/lab-gw-01', { qos: 1 });
  await sleep(600);
  const sub2secret = await new Promise((res) =>
    gw.regiestSubDevice({ productKey: 'a1SubPk0001', deviceName: 'lab-sub-02' }, (r) => { log('register', JSON.stringify(r)); res(r.data[0].deviceSecret); }));
  const sub2 = { productKey: 'a1SubPk0001', deviceName: 'lab-sub-02', deviceSecret: sub2secret };
  await sleep(300);
  await new Promise((res) => gw.addTopo([S.sub1, sub2], (r) => { log('topo', JSON.stringify(r)); res(); }));
  await sleep(300);
  let d1, d2;
  await new Promise((res) => { d1 = gw.login(S.sub1, (r) => { log('login1', JSON.stringify(r)); res(); }); });
  await sleep(300);
  await new Promise((res) => { d2 = gw.login(sub2, (r) => { log('login2', JSON.stringify(r)); res(); }); });
  await sleep(600);
  await new Promise((res) => d1.postProps({ temperature: 22.5, humidity: 40.1 }, (r) => { log('post1', JSON.stringify(r)); res(); }));
  await sleep(300);
  await new Promise((res) => gw.logout({ productKey: 'a1SubPk0001', deviceName: 'lab-sub-02' }, (r) => { log('logout2', JSON.stringify(r)); res(); }));
  await sleep(300);
  d2.postProps({ temperature: 18.0 }, (r) => log('post2 (never answered)', JSON.stringify(r)));
  await sleep(800);
  await new Promise((res) => gw.logout({ productKey: 'a1SubPk0001', deviceName: 'lab-sub-01' }, (r) => { log('logout1', JSON.stringify(r)); res(); }));
  await sleep(300);
  gw.end(false, () => { log('end'); process.exit(0); });
});
setTimeout(() => { log('timeout'); process.exit(2); }, 20000);
