/* C shim between aliiot (Rust) and Wireshark's epan.
 *
 * Everything here takes and returns plain C types so the Rust side never depends on struct layouts
 * or boolean types that differ between Wireshark 4.0, 4.4 and 4.6. Every function that can throw a
 * Wireshark exception catches it here, so no longjmp ever crosses a Rust frame. */
#ifndef ALIIOT_SHIM_H
#define ALIIOT_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include <ws_version.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/uat.h>
#include <epan/conversation.h>
#include <epan/column-utils.h>

/* ---- plugin registration ---- */

/* ---- the attachment: aliiot rides inside MQTT's own dissection ----
 * A handle "aliiot_mqtt" with MQTT's protocol id takes MQTT's place on every tcp.port and
 * tls.port entry whose handle is MQTT; it calls the real MQTT dissector through a private table
 * (so the frame keeps one "mqtt" layer) and then hands the bytes MQTT consumed to `pdus`. No
 * postdissector, no wanted fields: a frame without MQTT costs aliiot nothing.
 * - On an MQTT TCP port, a TLS ClientHello sends the connection to TLS (Alibaba's TLS endpoint
 *   listens on 1883 too), through aliiot's TLS wrapper.
 * - A "tls" heuristic hands decrypted data to aliiot_mqtt when the connection starts with an
 *   MQTT CONNECT (443 carries HTTPS and MQTT alike).
 * - ws.protocol "mqtt" and "mqttv3.1": the WebSocket message stream is cut back into MQTT
 *   packets (`ws_pieces`), each dissected by MQTT and then aliiot.
 * - TLS on an MQTT TLS port (8883, and 1883 once sniffed) goes through a TLS wrapper that calls
 *   `tls_data` for frames where TLS showed no MQTT, so aliiot can hint at missing keys.
 * - ip.proto 6 goes through a TCP wrapper that calls `tcp_flags` for a FIN, an RST or a SYN
 *   without ACK (TCP hands empty segments to no subdissector).
 * Every wrapper calls the real dissector first; an exception from it propagates as in stock
 * Wireshark (it crosses no Rust frame) and aliiot does nothing for that call. */
typedef int (*shim_bytes_pred)(const uint8_t *bytes, size_t len);
/* One whole MQTT packet of a WebSocket message: at offset/len in the message, or (data != NULL)
 * reassembled from earlier messages; `data` stays valid until the capture is closed. */
typedef struct shim_ws_piece {
    uint32_t offset;
    uint32_t len;
    const uint8_t *data;
} shim_ws_piece;
typedef struct shim_hooks {
    shim_bytes_pred is_tls_client_hello;
    shim_bytes_pred is_mqtt_connect;
    /* Fills `out` with the MQTT packets of this WebSocket message; returns how many. */
    size_t (*ws_pieces)(packet_info *pinfo, const uint8_t *msg, size_t len, shim_ws_piece *out,
                        size_t max);
    /* The captured bytes MQTT consumed from `tvb` (from offset 0): whole MQTT packets, the last
     * one possibly cut by the snap length. */
    void (*pdus)(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const uint8_t *bytes,
                 size_t len);
    /* About to call MQTT on a frame seen for the first time: aliiot asks the caches for the
     * connection's state while MQTT dissects. */
    void (*warm)(packet_info *pinfo);
    /* A TCP segment with FIN, RST or an opening SYN: its flags byte (first pass only). */
    void (*tcp_flags)(packet_info *pinfo, uint8_t flags);
    /* A frame on an MQTT TLS port where TLS showed no MQTT: its TLS bytes, and whether they
     * could be undecrypted application data seen for the first time (first pass, nothing
     * decrypted in this frame). */
    void (*tls_data)(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const uint8_t *bytes,
                     size_t len, int undecrypted);
} shim_hooks;
/* Registers the private table (from register_protoinfo). */
void shim_register_attachment(int proto);
/* Installs the wrappers (handoff), with the ports MQTT uses when its table names none. */
void shim_attach(const shim_hooks *hooks, const uint32_t *mqtt_ports, size_t n_ports);
/* Installs them again where MQTT's entries moved (init routine: Decode As, MQTT's port
 * preference, a profile's decode_as_entries). */
void shim_attach_again(void);
/* A counter that starts at 0 with every dissection of a frame: returns it and adds `n`.
 * Key 0 numbers aliiot's MQTT packets on later passes in a frame whose packets came in several
 * calls (the first pass counts them itself and marks such frames), key 1 its WebSocket
 * messages. */
unsigned shim_take_index(packet_info *pinfo, unsigned key, unsigned n);

/* Preferences: a keys-file path and the two secrets tables. */
void shim_register_prefs(int proto, void (*apply_cb)(void));
const char *shim_pref_keys_file(void);
const char *shim_pref_tsl_folder(void);

/* One row of either secrets table; strings are owned by the UAT, valid until the next update. */
typedef struct shim_secret {
    const char *product_key;
    const char *device_name; /* NULL for the product-secret table */
    const char *secret;
} shim_secret;
unsigned shim_device_secret_count(void);
int shim_device_secret_get(unsigned i, shim_secret *out);
unsigned shim_product_secret_count(void);
int shim_product_secret_get(unsigned i, shim_secret *out);

/* A warning in Wireshark's log (stderr in tshark, the log in the GUI). */
void shim_log_warning(const char *msg);
void shim_log_debug(const char *msg);

/* ---- taps and statistics ---- */
int shim_register_tap(const char *name);
void shim_tap_queue(int tap_id, packet_info *pinfo, const void *data);
/* Registers aliiot as a tap plugin whose listener registration calls `register_listeners`. */
void shim_tap_register_plugin(void (*register_listeners)(void));
typedef struct _stats_tree stats_tree;
typedef void (*shim_st_init_fn)(stats_tree *st);
/* Returns non-zero when the packet changed the tree. */
typedef int (*shim_st_packet_fn)(stats_tree *st, const void *data);
/* Two trees can be registered, in slots 0 and 1. */
void shim_register_stats_tree(unsigned slot, const char *tap, const char *abbr, const char *name,
                              shim_st_init_fn init, shim_st_packet_fn packet);
int shim_st_node(stats_tree *st, const char *name, int parent, int with_children);
int shim_st_tick(stats_tree *st, const char *name, int parent, int with_children);
/* Adds a sample to an average node (count, average, min and max are shown). */
int shim_st_avg(stats_tree *st, const char *name, int parent, int value);
/* The same with a floating-point sample; the node can have children. */
int shim_st_avg_float(stats_tree *st, const char *name, int parent, double value);
/* A `tshark -z <cli>[,<filter>]` statistic over tap `tap` (two slots, 0 and 1): `packet` per tapped record,
 * `draw` prints the result, `reset` clears it. */
void shim_register_cli_stat(unsigned slot, const char *tap, const char *cli, const char *title,
                            void (*reset)(void), void (*packet)(const void *data), void (*draw)(void));

/* ---- packet_info ---- */
uint32_t shim_pinfo_num(packet_info *pinfo);
int shim_pinfo_visited(packet_info *pinfo);
int shim_frame_kept(packet_info *pinfo, uint32_t num);
void shim_pinfo_abs_ts(packet_info *pinfo, int64_t *secs, int32_t *nsecs);
/* A key for (source address, source port): equal keys mean the same endpoint. */
uint64_t shim_pinfo_src_key(packet_info *pinfo);
uint64_t shim_pinfo_dst_key(packet_info *pinfo);
int shim_pinfo_has_proto(packet_info *pinfo, const char *name);
uint32_t shim_conversation_index(packet_info *pinfo);
/* Appends `len` bytes of UTF-8 `text` to the Info column (a NUL inside ends it), as Wireshark's
 * col_append_str would. */
void shim_col_append_info(packet_info *pinfo, const char *text, size_t len);
/* Whether aliiot's protocol item must be made: the tree is shown, or a filter names the protocol
 * itself (a filter on its fields alone finds them without it). */
int shim_proto_item_needed(proto_tree *tree, int proto);
/* Whether one field is filtered on, exported or otherwise referenced. */
int shim_field_referenced(proto_tree *tree, int hf);
/* Whether Wireshark registered the given fields and expert items in place: then it marks a
 * referenced one in the array itself (header_field_info.ref_type). */
int shim_registered_in_place(const hf_register_info *hfs, size_t n, const ei_register_info *eis,
                             size_t m);

/* What aliiot asks of each call with MQTT packets, in one call: the frame, its ports and time,
 * and what the dissection wants made (the endpoint keys come from shim_pinfo_src_key and
 * shim_pinfo_dst_key, which the warm hook has already called on a first pass). */
typedef struct {
    int64_t ts_secs;
    int32_t ts_nsecs;
    uint32_t num, src_port, dst_port;
    uint8_t visited, has_ts;
    /* This dissection fills in columns. */
    uint8_t has_columns;
    /* Expert items are wanted without the tree: a filter on _ws.expert or an expert tap. */
    uint8_t experts_wanted;
    /* This dissection shows or filters on `proto`'s items: the tree is visible, or a display
     * filter, coloring rule or -e field names one of its fields (or the protocol). */
    uint8_t wants_proto;
    /* The tree is shown (tshark -V, -T pdml/json, the GUI's details), not only filtered on. */
    uint8_t tree_visible;
    /* MQTT's "default_version" preference (protocol level for a connection whose CONNECT is
     * not in the capture; 0 = none), as read by the last shim_attach_again: every init
     * routine (a preference changed redissects, which runs them again). */
    uint8_t mqtt_version;
    uint8_t taps;           /* bit i: tap taps[i] has a listener (i < 8) */
} shim_frame_facts;
void shim_frame_facts_of(packet_info *pinfo, proto_tree *tree, int proto, const int *taps,
                         size_t n_taps, shim_frame_facts *out);

/* ---- building the tree (all catch exceptions and return NULL on failure) ---- */
proto_item *shim_add_protocol(proto_tree *tree, int proto, tvbuff_t *tvb, int start, int length,
                              const char *text, size_t text_len);
proto_tree *shim_subtree(proto_item *item, int ett);
/* Fields: `start`/`length` are the bytes of `tvb` the value was read from (0, 0 for a derived
 * value, which the caller marks generated). */
proto_item *shim_add_string(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length,
                            packet_info *pinfo, const char *s, size_t len);
/* A string field whose label adds ` (description)` after the value: one label made, not the
 * value's label and then an appended one. */
proto_item *shim_add_string_described(proto_tree *tree, int hf, tvbuff_t *tvb, int start,
                                      int length, packet_info *pinfo, const char *s, size_t len,
                                      const char *d, size_t d_len);
proto_item *shim_add_uint_described(proto_tree *tree, int hf, tvbuff_t *tvb, int start,
                                    int length, uint32_t v, const char *d, size_t d_len);
proto_item *shim_add_uint(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, uint32_t v);
proto_item *shim_add_int(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, int32_t v);
proto_item *shim_add_bool(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, int v);
proto_item *shim_add_double(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, double v);
proto_item *shim_add_time(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length,
                          int64_t secs, int32_t nsecs);
proto_item *shim_add_text_subtree(proto_tree *tree, int ett, tvbuff_t *tvb, proto_tree **subtree,
                                  const char *s, size_t len);
void shim_item_append_text(proto_item *item, const char *s, size_t len);
void shim_item_set_generated(proto_item *item);
void shim_expert(packet_info *pinfo, proto_item *item, expert_field *ei, const char *s, size_t len);

#endif
