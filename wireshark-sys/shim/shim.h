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
typedef int (*shim_heur_fn)(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const char *topic);
void shim_register_heuristic(const char *list, shim_heur_fn fn, const char *display_name,
                             const char *internal_name, int proto);
dissector_handle_t shim_register_postdissector(dissector_t fn, int proto, const int *hfids, size_t n);
/* Adds a string dissector-table entry (e.g. ws.protocol) that hands data to a named dissector. */
void shim_dissector_add_string(const char *table, const char *pattern, const char *dissector_name);

/* Transports (issue: every way a device reaches the platform):
 * - tcp/<port> for each MQTT port: TLS (a ClientHello) goes to TLS, whose application data on that
 *   port goes to MQTT; anything else goes to MQTT as before;
 * - a "tls" heuristic that hands decrypted data to MQTT when it starts with an MQTT CONNECT, and
 *   the rest of that connection after it (443 carries HTTPS and MQTT alike);
 * - ws.protocol "mqtt" and "mqttv3.1" to MQTT (MQTT over WebSocket).
 * The predicates are Rust's; they get the first captured bytes of a segment. */
typedef int (*shim_bytes_pred)(const uint8_t *bytes, size_t len);
/* One whole MQTT packet of a WebSocket message: at offset/len in the message, or (data != NULL)
 * reassembled from earlier messages; `data` stays valid until the capture is closed. */
typedef struct shim_ws_piece {
    uint32_t offset;
    uint32_t len;
    const uint8_t *data;
} shim_ws_piece;
/* Fills `out` with the MQTT packets of this WebSocket message; returns how many. */
typedef size_t (*shim_ws_pieces_fn)(packet_info *pinfo, const uint8_t *msg, size_t len,
                                     shim_ws_piece *out, size_t max);
void shim_register_transports(int proto, const uint32_t *mqtt_ports, size_t n_ports,
                              shim_bytes_pred is_tls_client_hello, shim_bytes_pred is_mqtt_connect,
                              shim_ws_pieces_fn ws_pieces);

/* Preferences: a keys-file path and the two secrets tables. */
void shim_register_prefs(int proto, void (*apply_cb)(void));
const char *shim_pref_keys_file(void);

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

/* ---- taps and statistics ---- */
int shim_register_tap(const char *name);
int shim_have_tap_listener(int tap_id);
void shim_tap_queue(int tap_id, packet_info *pinfo, const void *data);
/* Registers aliiot as a tap plugin whose listener registration calls `register_listeners`. */
void shim_tap_register_plugin(void (*register_listeners)(void));
typedef struct _stats_tree stats_tree;
typedef void (*shim_st_init_fn)(stats_tree *st);
/* Returns non-zero when the packet changed the tree. */
typedef int (*shim_st_packet_fn)(stats_tree *st, const void *data);
void shim_register_stats_tree(const char *tap, const char *abbr, const char *name,
                              shim_st_init_fn init, shim_st_packet_fn packet);
int shim_st_node(stats_tree *st, const char *name, int parent, int with_children);
int shim_st_tick(stats_tree *st, const char *name, int parent, int with_children);
/* Adds a sample to an average node (count, average, min and max are shown). */
int shim_st_avg(stats_tree *st, const char *name, int parent, int value);
/* A `tshark -z <cli>[,<filter>]` statistic over the aliiot tap: `packet` per tapped record,
 * `draw` prints the result, `reset` clears it. */
void shim_register_cli_stat(const char *cli, const char *title, void (*reset)(void),
                            void (*packet)(const void *data), void (*draw)(void));

/* ---- packet_info ---- */
uint32_t shim_pinfo_num(packet_info *pinfo);
int shim_pinfo_visited(packet_info *pinfo);
void shim_pinfo_abs_ts(packet_info *pinfo, int64_t *secs, int32_t *nsecs);
/* A key for (source address, source port): equal keys mean the same endpoint. */
uint64_t shim_pinfo_src_key(packet_info *pinfo);
uint64_t shim_pinfo_dst_key(packet_info *pinfo);
void shim_pinfo_ports(packet_info *pinfo, uint32_t *src, uint32_t *dst);
int shim_pinfo_has_proto(packet_info *pinfo, const char *name);
uint32_t shim_conversation_index(packet_info *pinfo);
void shim_col_set_protocol(packet_info *pinfo, const char *static_text);
void shim_col_append_info(packet_info *pinfo, const char *text, size_t len);
/* Whether this dissection shows or filters on a protocol's items: the tree is visible, or a
 * display filter, coloring rule or -e field names one of its fields (or the protocol). */
int shim_tree_wants_proto(proto_tree *tree, int proto);
/* Whether expert items are wanted without the tree: a filter on _ws.expert or an expert tap. */
int shim_experts_wanted(proto_tree *tree);
/* Whether this dissection fills in columns. */
int shim_pinfo_has_columns(packet_info *pinfo);

/* ---- reading other dissectors' fields (only primed fields; O(1) lookup) ---- */
typedef struct shim_finfo {
    int hf;
    const void *ds_tvb;   /* identity of the data source; compare only */
    int start;
    int length;
    const uint8_t *bytes; /* the field's bytes when they are captured, else NULL */
    uint32_t uint_value;  /* integer fields */
    const char *str_value;/* string fields (valid for this packet) */
    int generated;
} shim_finfo;
/* Number of field_infos of `hf` in `tree`; 0 when none or tree is NULL. */
unsigned shim_finfo_count(proto_tree *tree, int hf);
int shim_finfo_get(proto_tree *tree, int hf, unsigned i, shim_finfo *out);
/* The field_infos of `hf` in `tree` (one lookup), their number in *len; read each with
 * shim_finfo_read. NULL when none. Valid for this packet. */
const void *shim_finfo_array(proto_tree *tree, int hf, unsigned *len);
int shim_finfo_read(const void *array, unsigned i, int hf, shim_finfo *out);
const void *shim_tvb_identity(tvbuff_t *tvb);
/* Position of a data source (by its tvb identity) in the packet's data source list, or -1. The
 * list is rebuilt in the same order on every pass, so the position finds it again. */
int shim_ds_index(packet_info *pinfo, const void *ds_tvb);
/* The captured bytes [start, start+length) of the idx-th data source of the packet; NULL when
 * there is no such source or the bytes are not all there. Valid for this packet. */
const uint8_t *shim_ds_bytes(packet_info *pinfo, int idx, int start, int length);
/* Copies out the captured bytes of a tvb (the heuristic's payload); NULL if none. */
const uint8_t *shim_tvb_bytes(tvbuff_t *tvb, uint32_t *len);

/* ---- building the tree (all catch exceptions and return NULL on failure) ---- */
proto_item *shim_add_protocol(proto_tree *tree, int proto, tvbuff_t *tvb, int start, int length,
                              const char *text, size_t text_len);
proto_tree *shim_subtree(proto_item *item, int ett);
proto_item *shim_add_string(proto_tree *tree, int hf, tvbuff_t *tvb, packet_info *pinfo,
                            const char *s, size_t len);
proto_item *shim_add_uint(proto_tree *tree, int hf, tvbuff_t *tvb, uint32_t v);
proto_item *shim_add_int(proto_tree *tree, int hf, tvbuff_t *tvb, int32_t v);
proto_item *shim_add_bool(proto_tree *tree, int hf, tvbuff_t *tvb, int v);
proto_item *shim_add_double(proto_tree *tree, int hf, tvbuff_t *tvb, double v);
proto_item *shim_add_time(proto_tree *tree, int hf, tvbuff_t *tvb, int64_t secs, int32_t nsecs);
proto_item *shim_add_text_subtree(proto_tree *tree, int ett, tvbuff_t *tvb, proto_tree **subtree,
                                  const char *s, size_t len);
void shim_item_append_text(proto_item *item, const char *s, size_t len);
void shim_item_set_generated(proto_item *item);
void shim_expert(packet_info *pinfo, proto_item *item, expert_field *ei, const char *s, size_t len);

#endif
