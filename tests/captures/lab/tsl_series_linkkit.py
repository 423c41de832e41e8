"""Capture 39: a temperature series for the I/O Graph (README): the real PyPI aliyun-iot-linkkit
1.2.13 with the thermostat's model posts CurrentTemperature alone, 4 times a second for 30 s,
warming from 60 °C past the model's maximum of 85 °C and back."""
import math
import sys
import time

import lkdev

PK, DN = "a1B2c3D4e5F", "lab-sensor-28"


def main():
    lk = lkdev.make(PK, DN, lkdev.lab.secret(PK, DN), connect=False, tsl=sys.argv[1])
    lk.connect_async()
    if not lk.connected.wait(10):
        raise SystemExit(DN + ": no CONNACK")
    time.sleep(0.3)
    # The post_reply frees each request id (the SDK stops posting with too many unanswered).
    lk.subscribe_topic([("/sys/%s/%s/thing/event/property/post_reply" % (PK, DN), 1)])
    time.sleep(0.5)
    start = time.time()
    for i in range(120):
        value = round(60 + 32 * math.sin(math.pi * i / 119) + 1.5 * math.sin(i / 3), 1)
        lk.thing_post_property({"CurrentTemperature": value})
        time.sleep(max(0.0, start + (i + 1) * 0.25 - time.time()))
    lkdev.finish(lk)


if __name__ == "__main__":
    main()
