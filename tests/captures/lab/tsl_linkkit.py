"""Capture 36: the real PyPI aliyun-iot-linkkit 1.2.13 SDK with the lab thermostat's thing model
(tests/tsl/lab/thermostat.json, loaded by thing_setup) sends values that break the model, as its
API lets it (it checks event identifiers only): a good property post, one with values out of
range and of the wrong kind, one naming a property the model lacks (the platform answers 6332),
one with a struct member out of range, an array too long with an item of the wrong kind and a date
as a number, and an event with an output out of range and an unknown one. It answers the
platform's property set as the SDK does (200) and its service calls with the data the script
gives, one with an output the model lacks. Usage: tsl_linkkit.py TSL.json"""
import sys
import time

import lkdev

PK, DN = "a1B2c3D4e5F", "lab-sensor-26"
calls = []


def main():
    tsl = sys.argv[1]
    lk = lkdev.make(PK, DN, lkdev.lab.secret(PK, DN), connect=False, tsl=tsl)
    lk.on_thing_call_service = lambda ident, rid, params, ud: calls.append((ident, rid, params))
    lk.on_thing_enable = lambda ud: lkdev.log(DN, "thing enabled")
    lk.on_thing_prop_changed = lambda params, ud: lkdev.log(DN, "set", params)
    lk.connect_async()
    if not lk.connected.wait(10):
        raise SystemExit(DN + ": no CONNACK")
    time.sleep(0.3)
    # The platform delivers these without a subscription; mosquitto needs one.
    base = "/sys/%s/%s" % (PK, DN)
    lk.subscribe_topic([(base + t, 1) for t in (
        "/thing/event/property/post_reply", "/thing/event/Overheat/post_reply",
        "/thing/service/property/set", "/thing/service/Calibrate", "/thing/service/Reboot")])
    time.sleep(0.5)
    lk.thing_post_property({"CurrentTemperature": 21.5, "PowerSwitch": 1, "WorkMode": 2})
    time.sleep(0.4)
    lk.thing_post_property({"CurrentTemperature": 120.5, "TargetTemperature": "22", "WorkMode": 7,
                            "DisplayText": "Living room thermostat", "PowerSwitch": True})
    time.sleep(0.4)
    lk.thing_post_property({"TargetTemperature": 21, "Counter": 3})
    time.sleep(0.4)
    lk.thing_post_property({"Schedule": {"Hour": 25, "Enabled": 1},
                            "History": [20.5, "x", 21.0, 22.0, 23.0],
                            "LastMaintenance": 1700000000000})
    time.sleep(0.4)
    lk.thing_trigger_event(("Overheat", {"Temperature": 250.0, "Level": 2, "Extra": 1}))
    end = time.time() + 4
    answered = set()
    while time.time() < end:
        for ident, rid, params in list(calls):
            if rid in answered:
                continue
            answered.add(rid)
            data = {"result": 1, "newOffset": 7.5, "note": "clamped"} if ident == "Calibrate" else {}
            lk.thing_answer_service(ident, rid, 200, data)
        time.sleep(0.1)
    lkdev.finish(lk)


if __name__ == "__main__":
    main()
