"""Capture 14: RRPC in the /ext/rrpc/{id}/{inner topic} form and services, real PyPI aliyun-iot-linkkit 1.2.13.

a1B2c3D4e5F/lab-sensor-14 with a TSL (tsl-lab-sensor-14.json): lk.thing_post_property() -> post_reply; then
the platform sends (1) an opaque RRPC request on /ext/rrpc/<id>/a1B2c3D4e5F/lab-sensor-14/user/get, answered
with lk.thing_answer_rrpc() on the same topic; (2) a synchronous service call (Alink) on
/ext/rrpc/<id>/sys/a1B2c3D4e5F/lab-sensor-14/thing/service/GetStatus, answered by lk.thing_answer_service()
on the same topic; (3) an asynchronous service call on /sys/.../thing/service/SetTemperature, answered by
lk.thing_answer_service() on .../SetTemperature_reply.
"""
import os
import time

import lab
import lkdev

PK, DN = lab.PK, "lab-sensor-14"
base = "/sys/%s/%s" % (PK, DN)
lk = lkdev.make(PK, DN, lab.secret(PK, DN), connect=False,
                tsl=os.path.join(os.path.dirname(os.path.abspath(__file__)), "tsl-lab-sensor-14.json"))
done = []


def on_rrpc(rrpc_id, topic, payload, qos, ud):
    lkdev.log(DN, "rrpc", rrpc_id, topic, payload)
    lk.thing_answer_rrpc(rrpc_id, b"STATUS=OK;uptime=4242")
    done.append("rrpc")


def on_service(identifier, request_id, params, ud):
    lkdev.log(DN, "service", identifier, request_id, params)
    if identifier == "GetStatus":
        lk.thing_answer_service(identifier, request_id, 200, {"status": "ok"})
    else:
        lk.thing_answer_service(identifier, request_id, 200, {"actual": params.get("target")})
    done.append(identifier)


lk.on_topic_rrpc_message = on_rrpc
lk.on_thing_call_service = on_service
lk.connect_async()
lk.connected.wait(10)
time.sleep(0.3)
lk.subscribe_topic([(base + "/thing/event/property/post_reply", 1), (base + "/thing/service/SetTemperature", 1)])
time.sleep(0.2)
lk.subscribe_rrpc_topic(["/%s/%s/user/get" % (PK, DN), base + "/thing/service/GetStatus"])
time.sleep(0.5)
lk.thing_post_property({"temperature": 21.5})
for _ in range(60):
    if len(done) >= 3:
        break
    time.sleep(0.1)
lkdev.finish(lk)
