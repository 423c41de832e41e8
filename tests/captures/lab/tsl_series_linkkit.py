"""Capture 39: a temperature series for the I/O Graph (README): the real PyPI aliyun-iot-linkkit
1.2.13 with the thermostat's model posts CurrentTemperature alone, 4 times a second for 30 s,
warming from 60 °C past the model's maximum of 85 °C and back."""
import math
import sys
import time

import lkdev

PK, DN = "a1B2c3D4e5F", "lab-sensor-28"


def main():
    lk = lkdev.poster(PK, DN, sys.argv[1])
    start = time.time()
    for i in range(120):
        value = round(60 + 32 * math.sin(math.pi * i / 119) + 1.5 * math.sin(i / 3), 1)
        lk.thing_post_property({"CurrentTemperature": value})
        time.sleep(max(0.0, start + (i + 1) * 0.25 - time.time()))
    lkdev.finish(lk)


if __name__ == "__main__":
    main()
