"""Capture 16: Alink quirks, written by the lab (no SDK sends these on purpose).

Lab paho-mqtt 1.6.1 client with a Link SDK 4.x style login for a1B2c3D4e5F/lab-sensor-16:
clientId 'a1B2c3D4e5F.lab-sensor-16|timestamp=2524608000000,_ss=1,_v=sdk-c-4.2.0,securemode=3,
signmethod=hmacsha256,ext=3,|' (note the empty item before the closing '|'), password =
HMAC-SHA256(deviceSecret, 'clientIda1B2c3D4e5F.lab-sensor-16deviceNamelab-sensor-16productKey
a1B2c3D4e5Ftimestamp2524608000000') in upper-case hex.  Then (ids in brackets):
 [1]  property post whose params is a JSON string      -> reply with "code":"200" (string)
 [2]  property post with trailing commas                -> reply (the lab platform parses leniently)
 [3]  property post with "sys":{"ack":0}                -> no reply (none expected)
 [4]  property/desired/get                              -> never answered
 [5]  event alarm post with a bare numeric id 5         -> reply with "id":5
"""
import json
import time

import paho.mqtt.client as mqtt

import lab

PK, DN = lab.PK, "lab-sensor-16"
TS = "2524608000000"
cid = "%s.%s|timestamp=%s,_ss=1,_v=sdk-c-4.2.0,securemode=3,signmethod=hmacsha256,ext=3,|" % (PK, DN, TS)
pw = lab.hmac_hex("hmacsha256", lab.secret(PK, DN), lab.sign_content("%s.%s" % (PK, DN), DN, PK, TS), upper=True)
base = "/sys/%s/%s/thing/" % (PK, DN)

c = mqtt.Client(client_id=cid, clean_session=True, protocol=mqtt.MQTTv311)
c.username_pw_set("%s&%s" % (DN, PK), pw)
c.on_message = lambda c_, u, m: print("quirks:", m.topic, m.payload[:100], flush=True)
c.connect(lab.HOST, lab.PORT, 120)
c.loop_start()
time.sleep(0.5)
c.subscribe([(base + "event/property/post_reply", 1), (base + "event/+/post_reply", 1),
             (base + "property/desired/get_reply", 1)])
time.sleep(0.4)
msgs = [
    (base + "event/property/post",
     json.dumps({"id": "1", "version": "1.0", "params": json.dumps({"temperature": 21.5}, separators=(",", ":")),
                 "method": "thing.event.property.post"}, separators=(",", ":"))),
    (base + "event/property/post",
     '{"id":"2","version":"1.0","params":{"humidity":40.5,"switch":1,},"method":"thing.event.property.post",}'),
    (base + "event/property/post",
     '{"id":"3","version":"1.0","sys":{"ack":0},"params":{"temperature":21.75},"method":"thing.event.property.post"}'),
    (base + "property/desired/get",
     '{"id":"4","version":"1.0","params":["temperature","switch"],"method":"thing.property.desired.get"}'),
    (base + "event/alarm/post",
     '{"id":5, "version":"1.0","params":{"value":{"level":2},"time":1733000000000},"method":"thing.event.alarm.post"}'),
]
for topic, payload in msgs:
    c.publish(topic, payload, 1)
    time.sleep(0.4)
time.sleep(0.6)
c.disconnect()
c.loop_stop()
