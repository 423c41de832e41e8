"""Capture 40: properties posted with the time they were measured. The real PyPI
aliyun-iot-linkkit 1.2.13 with the thermostat's model sends each post's params as given, so these
are the SDK's own requests in Alink's {"value": v, "time": ms} form (the protocol reference's
property post), answered 200 by the lab platform:
 1  CurrentTemperature {"value": 25.5, "time": 1733000000000}
 2  CurrentTemperature {"time": 1733000001000, "value": 26.0} (time first), and PowerSwitch 1 bare
 3  CurrentTemperature {"value": 26.5} (no time)
"""
import sys
import time

import lkdev

PK, DN = "a1B2c3D4e5F", "lab-sensor-40"

POSTS = [
    {"CurrentTemperature": {"value": 25.5, "time": 1733000000000}},
    {"CurrentTemperature": {"time": 1733000001000, "value": 26.0}, "PowerSwitch": 1},
    {"CurrentTemperature": {"value": 26.5}},
]


def main():
    lk = lkdev.poster(PK, DN, sys.argv[1])
    for params in POSTS:
        rc, _ = lk.thing_post_property(params)
        if rc != 0:
            raise SystemExit("%s: post failed (%s)" % (DN, rc))
        time.sleep(0.4)
    lkdev.finish(lk)


if __name__ == "__main__":
    main()
