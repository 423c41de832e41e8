-- Verification aid for the WebSocket captures 23-25 (not part of aliiot): stock Wireshark/tshark 4.0
-- shows the WebSocket frames of MQTT-over-WebSocket but has no "mqtt" entry in its "ws.protocol"
-- table (and MQTT has no heuristic), so the binary payloads stay "Data".  This binds the negotiated
-- subprotocol "mqtt" to Wireshark's own MQTT dissector:
--   tshark -r 23-mqtt-over-ws.pcapng -X lua_script:lab/ws-mqtt.lua
-- Wireshark's MQTT dissector then sees each WebSocket message on its own: an MQTT packet spread
-- over several messages (23b, 24b, 25 a2) is not reassembled and shows as malformed pieces.
DissectorTable.get("ws.protocol"):add("mqtt", Dissector.get("mqtt"))
