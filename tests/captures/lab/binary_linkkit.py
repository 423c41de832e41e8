"""Capture 15: binary payloads on a real PyPI aliyun-iot-linkkit 1.2.13 session (a1B2c3D4e5F/lab-sensor-15).

lk.thing_raw_post_data() sends a model/up_raw binary frame in Alibaba's sample-script layout
(0x00 property report, u32 BE request id 0x00002233, then int16 / bool / float32 fields, see below) and
the platform answers on model/up_raw_reply (JSON, id = the request id in decimal).  Then two thing/file/download requests (JSON written as Link SDK
4.x does, including its trailing comma in fileInfo; sent with lk.publish_topic, the SDK has no MQTT
download API) are answered by the platform with the binary framing of reference section 6.2:
u16 BE header length + header JSON + chunk + CRC-16/ARC little-endian; the first block has a correct
CRC, the second a wrong one.
"""
import struct
import time

import lab
import lkdev

PK, DN = lab.PK, "lab-sensor-15"
base = "/sys/%s/%s/thing" % (PK, DN)
lk = lkdev.make(PK, DN, lab.secret(PK, DN), connect=False)
lk.thing_setup(None)            # raw-only thing model
lk.connect_async()
lk.connected.wait(10)
time.sleep(0.3)
lk.subscribe_topic([(base + "/model/up_raw_reply", 1), (base + "/file/download_reply", 1)])
time.sleep(0.5)
# byte0 0x00 property report, bytes1-4 request id 0x00002233 (= 8755), int16 BE 0x0157 (343 = 34.3 %RH x10),
# bool 0x01, float32 BE 21.5
lk.thing_raw_post_data(b"\x00" + struct.pack(">I", 0x2233) + struct.pack(">h", 343) + b"\x01" + struct.pack(">f", 21.5))
lkdev.wait_for(lk, base + "/model/up_raw_reply")
time.sleep(0.3)
req = ('{"id":"%d","version":"1.0","params":{"fileToken":"lab-file-token-01",'
       '"fileInfo":{"streamId":1733,"fileId":1,},"fileBlock":{"size":%d,"offset":%d}}}')
lk.publish_topic(base + "/file/download", req % (31, 64, 0), 0)
lkdev.wait_for(lk, base + "/file/download_reply")
time.sleep(0.3)
lk.publish_topic(base + "/file/download", req % (32, 64, 64), 0)
lkdev.wait_for(lk, base + "/file/download_reply")
lkdev.finish(lk)
