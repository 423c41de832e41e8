"""Small helpers around the real PyPI aliyun-iot-linkkit 1.2.13 device SDK (plain TCP to the lab broker)."""
import sys
import threading
import time

from linkkit import linkkit

import lab


def log(who, *a):
    print(who + ":", *a, file=sys.stderr, flush=True)


def make(pk, dn, ds=None, connect=True, tsl=None, **kw):
    """LinkKit device on 127.0.0.1:1883, securemode=3 (secure=""), keep-alive 60 s."""
    lk = linkkit.LinkKit(host_name="127.0.0.1", product_key=pk, device_name=dn, device_secret=ds, **kw)
    lk.config_mqtt(port=lab.PORT, secure="", keep_alive=60)
    lk.connected = threading.Event()
    lk.inbox = []
    lk.on_connect = lambda flag, rc, ud: (log(dn, "connect rc", rc), rc == 0 and lk.connected.set())
    lk.on_disconnect = lambda rc, ud: log(dn, "disconnect", rc)
    lk.on_topic_message = lambda t, p, q, ud: (log(dn, "message", t, p[:100]), lk.inbox.append((t, p)))
    if tsl is not None:
        lk.thing_setup(tsl)
    if connect:
        lk.connect_async()
        if not lk.connected.wait(10):
            raise SystemExit(dn + ": no CONNACK")
    return lk


def poster(pk, dn, tsl):
    """A device with the thing model in file `tsl`, connected and subscribed to its property
    post_reply (which frees each request id: the SDK stops posting with too many unanswered)."""
    lk = make(pk, dn, lab.secret(pk, dn), connect=False, tsl=tsl)
    lk.connect_async()
    if not lk.connected.wait(10):
        raise SystemExit(dn + ": no CONNACK")
    time.sleep(0.3)
    lk.subscribe_topic([("/sys/%s/%s/thing/event/property/post_reply" % (pk, dn), 1)])
    time.sleep(0.5)
    return lk


def wait_for(lk, topic, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        for t, p in lk.inbox:
            if t == topic:
                lk.inbox.remove((t, p))
                return p
        time.sleep(0.05)
    raise SystemExit("timeout waiting for " + topic)


def finish(lk):
    time.sleep(0.3)
    lk.disconnect()
    time.sleep(0.5)
    lk.destroy()
