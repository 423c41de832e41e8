"""Capture 13: NTP and OTA on a real PyPI aliyun-iot-linkkit 1.2.13 session (a1B2c3D4e5F/lab-sensor-13).

NTP request (the SDK has no NTP API: payload per Link SDK 4.x, sent with lk.publish_topic) -> platform
/ext/ntp/.../response; lk.ota_report_version() -> /ota/device/inform (id is a bare number); the platform
pushes /ota/device/upgrade (the SDK's on_ota_message_arrived fires); the device reports progress steps
10 and -2 (download failed) on /ota/device/progress (no progress API in the SDK: lk.publish_topic).
"""
import json
import time

import lab
import lkdev

PK, DN = lab.PK, "lab-sensor-13"
lk = lkdev.make(PK, DN, lab.secret(PK, DN))
got = []
lk.on_ota_message_arrived = lambda *a: (lkdev.log(DN, "ota", a), got.append(a))
lk.subscribe_topic([("/ota/device/upgrade/%s/%s" % (PK, DN), 1), ("/ext/ntp/%s/%s/response" % (PK, DN), 0)])
time.sleep(0.5)
lk.publish_topic("/ext/ntp/%s/%s/request" % (PK, DN), json.dumps({"deviceSendTime": str(int(time.time() * 1000))}), 0)
lkdev.wait_for(lk, "/ext/ntp/%s/%s/response" % (PK, DN))
time.sleep(0.3)
lk.ota_report_version(None, "1.0.3")
for _ in range(50):
    if got:
        break
    time.sleep(0.1)
time.sleep(0.3)
prog = "/ota/device/progress/%s/%s" % (PK, DN)
lk.publish_topic(prog, '{"id":2, "params":{"step":"10","desc":"downloading"}}', 0)
time.sleep(0.3)
lk.publish_topic(prog, '{"id":3, "params":{"step":"-2","desc":"download failed: connection reset"}}', 0)
lkdev.finish(lk)
