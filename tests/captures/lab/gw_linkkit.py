"""Capture 11: gateway with sub-devices, real PyPI aliyun-iot-linkkit 1.2.13 gateway API.

Gateway a1GwPkXyz12/lab-gw-02: thing/sub/register (reply carries lab-sub-02's deviceSecret),
thing/topo/add (HMAC-SHA256 signs, clientId 'pk.dn'), combine/batch_login for both sub-devices,
a property post for lab-sub-01 (-> reply), combine/batch_logout of lab-sub-02, a post for lab-sub-02
anyway (-> /ext/error 520, no reply), combine/batch_logout of lab-sub-01.  The SDK has no sub-device
publish API, so the two sub-device posts are written by this script and sent with lk.publish_topic().
"""
import json
import time

import lab
import lkdev

GW, SUB = ("a1GwPkXyz12", "lab-gw-02"), lab.SUB_PK
gw = "/sys/%s/%s/thing/" % GW
sess = "/ext/session/%s/%s/combine/" % GW
lk = lkdev.make(*GW, lab.secret(*GW))
# linkkit does not subscribe by itself; the real platform delivers these without a subscription
lk.subscribe_topic([(gw + "sub/register_reply", 1), (gw + "topo/add_reply", 1), (sess + "batch_login_reply", 1),
                    (sess + "batch_logout_reply", 1), ("/ext/error/%s/%s" % GW, 1),
                    ("/sys/%s/+/thing/event/property/post_reply" % SUB, 1)])
time.sleep(0.5)
lk.gateway_register_subdev([[SUB, "lab-sub-02"]])
sec2 = json.loads(lkdev.wait_for(lk, gw + "sub/register_reply"))["data"][0]["deviceSecret"]
time.sleep(0.3)
lk.gateway_add_subdev_topo([[SUB, "lab-sub-01", lab.secret(SUB, "lab-sub-01")], [SUB, "lab-sub-02", sec2]])
time.sleep(0.5)
lk.gateway_login_subdev([[SUB, "lab-sub-01", lab.secret(SUB, "lab-sub-01")], [SUB, "lab-sub-02", sec2]])
lkdev.wait_for(lk, sess + "batch_login_reply")
time.sleep(0.3)
post = {"id": "101", "version": "1.0", "params": {"temperature": 23.25, "switch": 1}, "method": "thing.event.property.post"}
lk.publish_topic("/sys/%s/lab-sub-01/thing/event/property/post" % SUB, json.dumps(post), 1)
lkdev.wait_for(lk, "/sys/%s/lab-sub-01/thing/event/property/post_reply" % SUB)
time.sleep(0.3)
lk.gateway_logout_subdev([[SUB, "lab-sub-02"]])
lkdev.wait_for(lk, sess + "batch_logout_reply")
time.sleep(0.3)
post = {"id": "102", "version": "1.0", "params": {"temperature": 17.75}, "method": "thing.event.property.post"}
lk.publish_topic("/sys/%s/lab-sub-02/thing/event/property/post" % SUB, json.dumps(post), 1)
lkdev.wait_for(lk, "/ext/error/%s/%s" % GW)
time.sleep(0.3)
lk.gateway_logout_subdev([[SUB, "lab-sub-01"]])
lkdev.wait_for(lk, sess + "batch_logout_reply")
lkdev.finish(lk)
