"""Capture 38: a device downloads its thing model on thing/dsltemplate/get (real PyPI
aliyun-iot-linkkit 1.2.13, which has no call of its own for it: the SDK's publish_topic sends the
Alink request) and the platform answers with the model in `data` (tests/tsl/lab/thermostat.json).
One property post before the model arrives and two after it, one beyond the model."""
import json
import time

import lkdev

PK, DN = "a1B2c3D4e5F", "lab-sensor-27"


def main():
    lk = lkdev.make(PK, DN, lkdev.lab.secret(PK, DN))
    base = "/sys/%s/%s" % (PK, DN)
    lk.subscribe_topic([(base + "/thing/dsltemplate/get_reply", 1),
                        (base + "/thing/event/property/post_reply", 1)])
    time.sleep(0.5)
    post = lambda i, params: lk.publish_topic(base + "/thing/event/property/post", json.dumps(
        {"id": str(i), "version": "1.0", "params": params, "method": "thing.event.property.post"}), 1)
    post(1, {"CurrentTemperature": 99.5})
    time.sleep(0.4)
    lk.publish_topic(base + "/thing/dsltemplate/get", json.dumps(
        {"id": "2", "version": "1.0", "params": {}, "method": "thing.dsltemplate.get"}), 1)
    lkdev.wait_for(lk, base + "/thing/dsltemplate/get_reply")
    time.sleep(0.3)
    post(3, {"CurrentTemperature": 21.5, "WorkMode": 1})
    time.sleep(0.4)
    post(4, {"CurrentTemperature": 99.5, "WorkMode": 3})
    time.sleep(0.5)
    lkdev.finish(lk)


if __name__ == "__main__":
    main()
