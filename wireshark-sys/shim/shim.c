/* See shim.h. Compiled by build.rs against the headers of the Wireshark being built for. */
#include "shim.h"

#include <string.h>
#include <epan/exceptions.h>
#include <epan/column-utils.h>
#include <epan/column-info.h>
#include <epan/frame_data.h>
#include <epan/to_str.h>
#include <epan/address.h>
#include <epan/wmem_scopes.h>
#include <wsutil/wslog.h>
#include <epan/tap.h>
#include <epan/stats_tree.h>
#include <epan/stats_tree_priv.h>
#include <epan/stat_tap_ui.h>
#include <stdio.h>
#include <epan/prefs-int.h>
#include <epan/proto_data.h>

#if WIRESHARK_VERSION_MAJOR > 4 || (WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR >= 4)
#define SHIM_WS_4_4 1
typedef bool shim_bool;
#define FINFO_VALUE(fi) ((fi)->value)
#else
#define SHIM_WS_4_4 0
typedef gboolean shim_bool;
#define FINFO_VALUE(fi) (&(fi)->value)
#endif

#if WIRESHARK_VERSION_MAJOR > 4 || (WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR >= 6)
#define SHIM_WS_4_6 1
/* stat_tap_init_cb returns bool from 4.6 on */
typedef bool shim_stat_init_ret;
#define SHIM_STAT_INIT_RETURN(ok) return (ok)
#else
#define SHIM_WS_4_6 0
typedef void shim_stat_init_ret;
#define SHIM_STAT_INIT_RETURN(ok) return
#endif

/* ------------------------------------------------------------------ the attachment */
#define KEY_MQTT 0u
#define KEY_TLS 1u
#define KEY_TCP 2u

static int aliiot_proto = -1;
static protocol_t *aliiot_protocol;
static shim_hooks hooks;
static dissector_table_t private_table;
static dissector_handle_t mqtt_handle, tls_handle, tcp_handle;
static dissector_handle_t aliiot_mqtt_handle, aliiot_tls_handle, aliiot_tcp_handle;

static int aliiot_enabled(void)
{
    return aliiot_protocol && proto_is_protocol_enabled(aliiot_protocol);
}

/* The real dissector behind one of aliiot's wrappers, without adding its name to the frame's
 * layers a second time (the wrapper, which has its protocol id, already did). */
static int call_real(uint32_t key, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
#if SHIM_WS_4_6
    return dissector_try_uint_with_data(private_table, key, tvb, pinfo, tree, false, data);
#else
    return dissector_try_uint_new(private_table, key, tvb, pinfo, tree, FALSE, data);
#endif
}

unsigned shim_take_index(packet_info *pinfo, unsigned key, unsigned n)
{
    unsigned *c = (unsigned *)p_get_proto_data(pinfo->pool, pinfo, aliiot_proto, key);
    if (!c) {
        c = wmem_new0(pinfo->pool, unsigned);
        p_add_proto_data(pinfo->pool, pinfo, aliiot_proto, key, c);
    }
    unsigned was = *c;
    *c += n;
    return was;
}

/* Calls that handed aliiot MQTT's bytes on a later pass, since the program started: the TLS
 * wrapper compares it before and after TLS to see whether MQTT was found inside. */
static unsigned later_pdu_calls;

static const uint8_t *first_bytes(tvbuff_t *tvb, size_t *len)
{
    unsigned n = tvb_captured_length(tvb);
    if (n > 16)
        n = 16;
    *len = n;
    return n ? tvb_get_ptr(tvb, 0, (int)n) : NULL;
}

/* MQTT, then aliiot over the bytes MQTT consumed. */
static int mqtt_then_aliiot(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    /* This wrapper is one more layer between TCP (or TLS) and MQTT: MQTT gets the reassembly
     * right its caller granted, as if called directly (the proxy idiom of packet.c). */
    pinfo->can_desegment = pinfo->saved_can_desegment;
    pinfo->desegment_offset = 0;
    pinfo->desegment_len = 0;
    int enabled = aliiot_enabled();
    if (hooks.warm && enabled && !PINFO_FD_VISITED(pinfo))
        hooks.warm(pinfo);
    int n = call_real(KEY_MQTT, tvb, pinfo, tree, data);
    if (!hooks.pdus || !enabled)
        return n;
    unsigned captured = tvb_captured_length(tvb);
    unsigned consumed = pinfo->desegment_len ? (unsigned)pinfo->desegment_offset : captured;
    if (consumed > captured)
        consumed = captured;
    if (consumed > 0) {
        if (PINFO_FD_VISITED(pinfo))
            later_pdu_calls++;
        hooks.pdus(tvb, pinfo, tree, tvb_get_ptr(tvb, 0, (int)consumed), consumed);
    }
    return n;
}

/* tcp.port / tls.port entries of MQTT. On a TCP port, a ClientHello means TLS (the platform's
 * TLS endpoint listens on 1883 too): the connection goes to TLS, through aliiot's TLS wrapper. */
static int dissect_aliiot_mqtt(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    /* The first byte first: 0x16 is rare in MQTT (a CONNECT with reserved flags), and asking
     * whether TLS is already a layer walks the frame's layer list. */
    size_t len;
    const uint8_t *b = first_bytes(tvb, &len);
    if (pinfo->ptype == PT_TCP && aliiot_tls_handle && hooks.is_tls_client_hello && b &&
        b[0] == 0x16 && !proto_is_frame_protocol(pinfo->layers, "tls")) {
        if (hooks.is_tls_client_hello(b, len)) {
            conversation_set_dissector(find_or_create_conversation(pinfo), aliiot_tls_handle);
            pinfo->can_desegment = pinfo->saved_can_desegment;
            return call_dissector_with_data(aliiot_tls_handle, tvb, pinfo, tree, data);
        }
    }
    return mqtt_then_aliiot(tvb, pinfo, tree, data);
}

/* Whether TLS decrypted something in this frame (it adds a "Decrypted TLS" data source). */
static int decrypted_in_frame(packet_info *pinfo)
{
#if SHIM_WS_4_6
    return get_data_source_by_name(pinfo, "Decrypted TLS") != NULL;
#else
    for (GSList *l = pinfo->data_src; l; l = l->next) {
        char *name = get_data_source_name((const struct data_source *)l->data);
        int hit = name && strncmp(name, "Decrypted TLS", 13) == 0;
        wmem_free(NULL, name);
        if (hit)
            return 1;
    }
    return 0;
#endif
}

/* TLS on an MQTT TLS port. */
static int dissect_aliiot_tls(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    unsigned before = later_pdu_calls;
    pinfo->can_desegment = pinfo->saved_can_desegment;
    int n = call_real(KEY_TLS, tvb, pinfo, tree, data);
    if (!hooks.tls_data || !aliiot_enabled() || later_pdu_calls != before)
        return n;
    unsigned len = tvb_captured_length(tvb);
    if (len == 0)
        return n;
    int undecrypted = !PINFO_FD_VISITED(pinfo) && !decrypted_in_frame(pinfo);
    hooks.tls_data(tvb, pinfo, tree, tvb_get_ptr(tvb, 0, (int)len), len, undecrypted);
    return n;
}

/* ip.proto 6: TCP, then a look at its flags. */
static int dissect_aliiot_tcp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    int n = call_real(KEY_TCP, tvb, pinfo, tree, data);
    if (hooks.tcp_flags && !PINFO_FD_VISITED(pinfo) && tvb_captured_length(tvb) >= 14) {
        uint8_t flags = tvb_get_ptr(tvb, 13, 1)[0];
        /* FIN or RST; SYN without ACK (a connection opens: its 4-tuple may be reused) */
        if (((flags & 0x05) || (flags & 0x12) == 0x02) && aliiot_enabled())
            hooks.tcp_flags(pinfo, flags);
    }
    return n;
}

/* Decrypted TLS data: MQTT when the connection began with a CONNECT. The heuristic carries MQTT's
 * protocol id (the frame's layers read tls:mqtt, as if MQTT were on a TLS port) and does nothing
 * while aliiot is disabled, so the frame is then exactly as in stock. */
static shim_bool heur_mqtt_in_tls(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    if (!aliiot_enabled())
        return 0;
    conversation_t *conv = find_or_create_conversation(pinfo);
    if (!conversation_get_proto_data(conv, aliiot_proto)) {
        size_t len;
        const uint8_t *b = first_bytes(tvb, &len);
        if (!b || !hooks.is_mqtt_connect || !hooks.is_mqtt_connect(b, len))
            return 0;
        conversation_add_proto_data(conv, aliiot_proto, GUINT_TO_POINTER(1));
    }
    mqtt_then_aliiot(tvb, pinfo, tree, data);
    return 1;
}

/* ws.protocol mqtt: cut the WebSocket message stream back into whole MQTT packets. */
static int dissect_aliiot_ws(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    unsigned n = tvb_captured_length(tvb);
    if (n == 0 || !hooks.ws_pieces)
        return 0;
    const uint8_t *msg = tvb_get_ptr(tvb, 0, (int)n);
    shim_ws_piece pieces[64];
    size_t count = hooks.ws_pieces(pinfo, msg, n, pieces, 64);
    for (size_t i = 0; i < count; i++) {
        tvbuff_t *t;
        if (pieces[i].data) {
            t = tvb_new_child_real_data(tvb, pieces[i].data, pieces[i].len, pieces[i].len);
            add_new_data_source(pinfo, t, "MQTT over WebSocket (reassembled)");
        } else {
            /* Packets that follow each other in this message go to MQTT together. */
            uint32_t start = pieces[i].offset, end = start + pieces[i].len;
            while (i + 1 < count && !pieces[i + 1].data && pieces[i + 1].offset == end) {
                i++;
                end += pieces[i].len;
            }
            t = tvb_new_subset_length(tvb, (int)start, (int)(end - start));
        }
        mqtt_then_aliiot(t, pinfo, tree, data);
        /* MQTT clears the Info column on each call: keep what the previous call wrote. */
        col_set_fence(pinfo->cinfo, COL_INFO);
    }
    return (int)n;
}

void shim_register_attachment(int proto)
{
    aliiot_proto = proto;
    aliiot_protocol = find_protocol_by_id(proto);
    private_table = register_dissector_table("aliiot.wrapped", "Dissectors aliiot wraps", proto,
                                             FT_UINT32, BASE_DEC);
}

/* Keys of `table` whose current handle is `h`. */
typedef struct {
    dissector_handle_t h;
    uint32_t keys[256];
    size_t n;
} key_list;

static void collect_keys(const char *table_name, ftenum_t selector_type, gpointer key,
                         gpointer value, gpointer user_data)
{
    (void)table_name; (void)selector_type;
    key_list *l = user_data;
    if (dtbl_entry_get_handle((dtbl_entry_t *)value) == l->h && l->n < 256)
        l->keys[l->n++] = GPOINTER_TO_UINT(key);
}

static key_list entries_of(const char *table, dissector_handle_t h)
{
    key_list l;
    l.h = h;
    l.n = 0;
    if (h)
        dissector_table_foreach(table, collect_keys, &l);
    return l;
}

/* Puts `to` where `from` is in `table`, as Decode As would: the entry's default stays the wrapped
 * dissector, and `to` is not added to the table's list of handles, so `-d table==N,mqtt` and the
 * Decode As dialog still find exactly one MQTT. */
static void take_over(const char *table, uint32_t key, dissector_handle_t to)
{
    dissector_change_uint(table, key, to);
}

static void read_mqtt_default_version(void);

void shim_attach_again(void)
{
    read_mqtt_default_version();
    if (!mqtt_handle)
        return;
    key_list tcp = entries_of("tcp.port", mqtt_handle);
    for (size_t i = 0; i < tcp.n; i++) {
        take_over("tcp.port", tcp.keys[i], aliiot_mqtt_handle);
        /* TLS on the same port carries MQTT too (the platform's TLS endpoint on 1883). */
        dissector_table_t tls_port = find_dissector_table("tls.port");
        if (tls_port && !dissector_get_uint_handle(tls_port, tcp.keys[i]))
            dissector_add_uint("tls.port", tcp.keys[i], mqtt_handle);
    }
    key_list tls = entries_of("tls.port", mqtt_handle);
    for (size_t i = 0; i < tls.n; i++)
        take_over("tls.port", tls.keys[i], aliiot_mqtt_handle);
    /* The TCP side of an MQTT TLS port (8883): TLS, through aliiot's TLS wrapper. */
    dissector_table_t tcp_port = find_dissector_table("tcp.port");
    key_list mine = entries_of("tls.port", aliiot_mqtt_handle);
    for (size_t i = 0; i < mine.n; i++) {
        if (tcp_port && tls_handle && dissector_get_uint_handle(tcp_port, mine.keys[i]) == tls_handle)
            take_over("tcp.port", mine.keys[i], aliiot_tls_handle);
    }
    dissector_table_t ip = find_dissector_table("ip.proto");
    if (ip && tcp_handle && dissector_get_uint_handle(ip, 6) == tcp_handle)
        take_over("ip.proto", 6, aliiot_tcp_handle);
}

void shim_attach(const shim_hooks *h, const uint32_t *mqtt_ports, size_t n_ports)
{
    hooks = *h;
    mqtt_handle = find_dissector("mqtt");
    tls_handle = find_dissector("tls");
    tcp_handle = find_dissector("tcp");
    if (!mqtt_handle)
        return;
    /* The wrappers carry the wrapped protocol's id: disabling MQTT (or TLS, TCP) disables them,
     * and disabling aliiot leaves the real dissectors doing exactly what they do in stock. */
    int proto_mqtt = proto_get_id_by_filter_name("mqtt");
    aliiot_mqtt_handle = register_dissector_with_description(
        "aliiot_mqtt", "MQTT (Alibaba Cloud IoT)", dissect_aliiot_mqtt, proto_mqtt);
    dissector_add_uint("aliiot.wrapped", KEY_MQTT, mqtt_handle);
    if (tls_handle) {
        aliiot_tls_handle = create_dissector_handle_with_name_and_description(
            dissect_aliiot_tls, proto_get_id_by_filter_name("tls"), "aliiot_tls",
            "TLS on an MQTT port (Alibaba Cloud IoT)");
        dissector_add_uint("aliiot.wrapped", KEY_TLS, tls_handle);
    }
    if (tcp_handle) {
        aliiot_tcp_handle = create_dissector_handle_with_name_and_description(
            dissect_aliiot_tcp, proto_get_id_by_filter_name("tcp"), "aliiot_tcp",
            "TCP (Alibaba Cloud IoT session ends)");
        dissector_add_uint("aliiot.wrapped", KEY_TCP, tcp_handle);
    }
    /* MQTT's own TCP port when its table names none. */
    if (entries_of("tcp.port", mqtt_handle).n == 0) {
        for (size_t i = 0; i < n_ports; i++)
            dissector_add_uint("tcp.port", mqtt_ports[i], mqtt_handle);
    }
    shim_attach_again();
    heur_dissector_add("tls", heur_mqtt_in_tls, "MQTT over TLS, found by its CONNECT (aliiot)",
                       "aliiot_mqtt_tls", proto_mqtt, HEURISTIC_ENABLE);
    dissector_handle_t ws_handle = create_dissector_handle_with_name_and_description(
        dissect_aliiot_ws, proto_mqtt, "aliiot_mqtt_ws", "MQTT over WebSocket (aliiot)");
    dissector_add_string("ws.protocol", "mqtt", ws_handle);
    dissector_add_string("ws.protocol", "mqttv3.1", ws_handle);
}

static unsigned mqtt_default_version;

/* Read once per init routine (from shim_attach_again), not per packet. */
static void read_mqtt_default_version(void)
{
    static pref_t *pref;
    static int looked;
    if (!looked) {
        looked = 1;
        module_t *m = prefs_find_module("mqtt");
        pref = m ? prefs_find_preference(m, "default_version") : NULL;
    }
    mqtt_default_version = pref ? (unsigned)prefs_get_enum_value(pref, pref_current) : 0;
}

/* ------------------------------------------------------------------ preferences and UATs */
typedef struct {
    char *product_key;
    char *device_name;
    char *secret;
} device_secret_rec;

typedef struct {
    char *product_key;
    char *secret;
} product_secret_rec;

static device_secret_rec *device_secrets;
static guint n_device_secrets;
static product_secret_rec *product_secrets;
static guint n_product_secrets;
static const char *keys_file_pref = "";
static const char *tsl_folder_pref = "";

UAT_CSTRING_CB_DEF(dsec, product_key, device_secret_rec)
UAT_CSTRING_CB_DEF(dsec, device_name, device_secret_rec)
UAT_CSTRING_CB_DEF(dsec, secret, device_secret_rec)
UAT_CSTRING_CB_DEF(psec, product_key, product_secret_rec)
UAT_CSTRING_CB_DEF(psec, secret, product_secret_rec)

static void *dsec_copy(void *dst, const void *src, size_t len)
{
    const device_secret_rec *s = src;
    device_secret_rec *d = dst;
    (void)len;
    d->product_key = g_strdup(s->product_key);
    d->device_name = g_strdup(s->device_name);
    d->secret = g_strdup(s->secret);
    return d;
}

static void dsec_free(void *r)
{
    device_secret_rec *d = r;
    g_free(d->product_key);
    g_free(d->device_name);
    g_free(d->secret);
}

static void *psec_copy(void *dst, const void *src, size_t len)
{
    const product_secret_rec *s = src;
    product_secret_rec *d = dst;
    (void)len;
    d->product_key = g_strdup(s->product_key);
    d->secret = g_strdup(s->secret);
    return d;
}

static void psec_free(void *r)
{
    product_secret_rec *d = r;
    g_free(d->product_key);
    g_free(d->secret);
}

/* Each value is checked as it is read (from the profile's file, -o uat:…, or the GUI's editor):
 * a bad value gives a message naming the field and marks its row invalid; the row is not used,
 * and, unlike a refusal from the update callback, the rows after it are still loaded. */
static shim_bool chk_secret_field(void *rec, const char *p, unsigned len, const void *what,
                                  const void *fld, char **err)
{
    (void)rec; (void)fld;
    if (len == 0) {
        *err = g_strdup_printf("%s must not be empty", (const char *)what);
        return 0;
    }
    if (len > 256) {
        *err = g_strdup_printf("%s is longer than 256 characters", (const char *)what);
        return 0;
    }
    for (unsigned i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f) {
            *err = g_strdup_printf("%s contains a space or control character", (const char *)what);
            return 0;
        }
    }
    if (!g_utf8_validate(p, len, NULL)) {
        *err = g_strdup_printf("%s is not valid UTF-8", (const char *)what);
        return 0;
    }
    return 1;
}

#define ALIIOT_FLD(basename, field_name, title, desc) \
    {#field_name, title, PT_TXTMOD_STRING, \
     {chk_secret_field, basename##_##field_name##_set_cb, basename##_##field_name##_tostr_cb}, \
     {title, 0, 0}, 0, desc, FLDFILL}

void shim_register_prefs(int proto, void (*apply_cb)(void))
{
    static uat_field_t dsec_fields[] = {
        ALIIOT_FLD(dsec, product_key, "Product key", "productKey of the device (e.g. a1B2c3D4e5F)"),
        ALIIOT_FLD(dsec, device_name, "Device name", "deviceName of the device"),
        ALIIOT_FLD(dsec, secret, "Device secret", "deviceSecret; used only to verify login signs, never displayed"),
        UAT_END_FIELDS
    };
    static uat_field_t psec_fields[] = {
        ALIIOT_FLD(psec, product_key, "Product key", "productKey of the product"),
        ALIIOT_FLD(psec, secret, "Product secret", "productSecret; used only to verify dynamic-registration signs, never displayed"),
        UAT_END_FIELDS
    };
    module_t *m = prefs_register_protocol(proto, apply_cb);
    uat_t *du = uat_new("Alibaba Cloud IoT device secrets", sizeof(device_secret_rec),
                        "aliiot_device_secrets", TRUE, &device_secrets, &n_device_secrets,
                        UAT_AFFECTS_DISSECTION, NULL, dsec_copy, NULL, dsec_free,
                        NULL, NULL, dsec_fields);
    prefs_register_uat_preference(m, "device_secrets", "Device secrets",
        "Product key, device name and device secret of each device whose login sign aliiot should verify. "
        "Stored in the profile file aliiot_device_secrets; keep it private.", du);
    uat_t *pu = uat_new("Alibaba Cloud IoT product secrets", sizeof(product_secret_rec),
                        "aliiot_product_secrets", TRUE, &product_secrets, &n_product_secrets,
                        UAT_AFFECTS_DISSECTION, NULL, psec_copy, NULL, psec_free,
                        NULL, NULL, psec_fields);
    prefs_register_uat_preference(m, "product_secrets", "Product secrets",
        "Product key and product secret, used to verify dynamic-registration signs. "
        "Stored in the profile file aliiot_product_secrets; keep it private.", pu);
    prefs_register_filename_preference(m, "keys_file", "Secrets file",
        "A text file with one secret per line: 'productKey,deviceName,deviceSecret' for a device, "
        "'productKey,productSecret' for a product; '#' starts a comment. Read when a capture is "
        "opened, in addition to the tables above.", &keys_file_pref, FALSE);
    prefs_register_directory_preference(m, "tsl_folder", "Thing model (TSL) folder",
        "A folder of thing model files as the IoT console exports them (*.json, one per product, "
        "found by profile.productKey whatever the file name; custom-module files join their "
        "product). Properties, events and services are then named, given units and checked "
        "against the model. Read when a capture is opened.", &tsl_folder_pref);
}

const char *shim_pref_keys_file(void)
{
    return keys_file_pref ? keys_file_pref : "";
}

const char *shim_pref_tsl_folder(void)
{
    return tsl_folder_pref ? tsl_folder_pref : "";
}

unsigned shim_device_secret_count(void) { return n_device_secrets; }

int shim_device_secret_get(unsigned i, shim_secret *out)
{
    if (i >= n_device_secrets || !device_secrets)
        return 0;
    out->product_key = device_secrets[i].product_key;
    out->device_name = device_secrets[i].device_name;
    out->secret = device_secrets[i].secret;
    return 1;
}

unsigned shim_product_secret_count(void) { return n_product_secrets; }

int shim_product_secret_get(unsigned i, shim_secret *out)
{
    if (i >= n_product_secrets || !product_secrets)
        return 0;
    out->product_key = product_secrets[i].product_key;
    out->device_name = NULL;
    out->secret = product_secrets[i].secret;
    return 1;
}

void shim_log_warning(const char *msg)
{
    ws_log("aliiot", LOG_LEVEL_WARNING, "%s", msg);
}

void shim_log_debug(const char *msg)
{
    ws_log("aliiot", LOG_LEVEL_DEBUG, "%s", msg);
}

/* ------------------------------------------------------------------ taps and statistics */
int shim_register_tap(const char *name) { return register_tap(name); }

void shim_tap_queue(int tap_id, packet_info *pinfo, const void *data)
{
    tap_queue_packet(tap_id, pinfo, data);
}

static void (*rust_register_listeners)(void);

static void register_listeners_trampoline(void)
{
    if (rust_register_listeners)
        rust_register_listeners();
}

static tap_plugin aliiot_tap_plugin = { register_listeners_trampoline };

void shim_tap_register_plugin(void (*register_listeners)(void))
{
    rust_register_listeners = register_listeners;
    tap_register_plugin(&aliiot_tap_plugin);
}

/* Three statistics trees and two text statistics, each in its slot: Wireshark's callbacks carry
 * no context of ours, so each slot has its own trampoline. */
#define SHIM_SLOTS 3
static shim_st_packet_fn rust_st_packet[SHIM_SLOTS];

static tap_packet_status st_packet(int slot, stats_tree *st, const void *data)
{
    return rust_st_packet[slot] && rust_st_packet[slot](st, data) ? TAP_PACKET_REDRAW : TAP_PACKET_DONT_REDRAW;
}

static tap_packet_status st_packet_trampoline0(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt,
                                               const void *data, tap_flags_t flags)
{
    (void)pinfo; (void)edt; (void)flags;
    return st_packet(0, st, data);
}

static tap_packet_status st_packet_trampoline1(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt,
                                               const void *data, tap_flags_t flags)
{
    (void)pinfo; (void)edt; (void)flags;
    return st_packet(1, st, data);
}

static tap_packet_status st_packet_trampoline2(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt,
                                               const void *data, tap_flags_t flags)
{
    (void)pinfo; (void)edt; (void)flags;
    return st_packet(2, st, data);
}

static const stat_tree_packet_cb st_trampolines[SHIM_SLOTS] = {
    st_packet_trampoline0, st_packet_trampoline1, st_packet_trampoline2,
};

void shim_register_stats_tree(unsigned slot, const char *tap, const char *abbr, const char *name,
                              shim_st_init_fn init, shim_st_packet_fn packet)
{
    if (slot >= SHIM_SLOTS)
        return;
    rust_st_packet[slot] = packet;
    stat_tree_packet_cb cb = st_trampolines[slot];
#if SHIM_WS_4_4
    stats_tree_cfg *cfg = stats_tree_register_plugin(tap, abbr, name, 0, cb, init, NULL);
    stats_tree_set_group(cfg, REGISTER_PACKET_STAT_GROUP_UNSORTED);
#else
    stats_tree_register_plugin(tap, abbr, name, 0, cb, init, NULL);
#endif
}

typedef struct {
    const char *tap;
    const char *cli;
    void (*reset)(void);
    void (*packet)(const void *data);
    void (*draw)(void);
    stat_tap_ui ui;
} cli_slot;

static cli_slot cli_slots[SHIM_SLOTS];

static void cli_reset_trampoline(void *tapdata)
{
    cli_slot *c = tapdata;
    if (c->reset)
        c->reset();
}

static tap_packet_status cli_packet_trampoline(void *tapdata, packet_info *pinfo, epan_dissect_t *edt,
                                               const void *data, tap_flags_t flags)
{
    cli_slot *c = tapdata;
    (void)pinfo; (void)edt; (void)flags;
    if (c->packet)
        c->packet(data);
    return TAP_PACKET_REDRAW;
}

static void cli_draw_trampoline(void *tapdata)
{
    cli_slot *c = tapdata;
    if (c->draw)
        c->draw();
}

static shim_stat_init_ret cli_init(const char *opt_arg, void *userdata)
{
    cli_slot *c = userdata;
    const char *filter = NULL;
    size_t n = strlen(c->cli);
    if (opt_arg && strncmp(opt_arg, c->cli, n) == 0 && opt_arg[n] == ',')
        filter = opt_arg + n + 1;
    GString *err = register_tap_listener(c->tap, c, filter, 0, cli_reset_trampoline,
                                         cli_packet_trampoline, cli_draw_trampoline, NULL);
    if (err) {
        fprintf(stderr, "aliiot: cannot register the %s statistic: %s\n", c->cli, err->str);
        g_string_free(err, TRUE);
        SHIM_STAT_INIT_RETURN(0);
    }
    SHIM_STAT_INIT_RETURN(1);
}

void shim_register_cli_stat(unsigned slot, const char *tap, const char *cli, const char *title,
                            void (*reset)(void), void (*packet)(const void *data), void (*draw)(void))
{
    if (slot >= SHIM_SLOTS)
        return;
    cli_slot *c = &cli_slots[slot];
    c->tap = tap;
    c->cli = cli;
    c->reset = reset;
    c->packet = packet;
    c->draw = draw;
    c->ui.group = REGISTER_STAT_GROUP_GENERIC;
    c->ui.title = title;
    c->ui.cli_string = cli;
    c->ui.tap_init_cb = cli_init;
    c->ui.nparams = 0;
    c->ui.params = NULL;
    register_stat_tap_ui(&c->ui, c);
}

/* stats_tree appends a new node to its parent's children by walking the whole list (new_stat_node
 * in epan/stats_tree.c, 4.0 to 4.6): O(n) per node, O(n^2) for a parent with many children. With
 * 18 540 devices in five products, that walk was a fifth of `tshark -2 -q -z aliiot,tree`, each
 * step a cache miss. While a node is made, the walk is the only reader of parent->children
 * (lookups go through the parent's hash or the tree's names), so pointing parent->children at the
 * parent's newest child for the call appends after it at once, and leaves the list stats_tree
 * would have made. The newest children are remembered in a small cache by parent node id; an
 * entry is used only if the node it names is still a child of that parent with nothing after it,
 * so a stale or colliding entry costs the walk, never a wrong list. Nodes made without children
 * have no id and are not remembered: their parents (a device's few counters) stay short. */
typedef struct {
    stats_tree *st;
    int parent;
    int child;
} st_tail_t;
static st_tail_t st_tails[256];

static stat_node *st_parent_node(stats_tree *st, int id)
{
    return id >= 0 && (unsigned)id < st->parents->len ? (stat_node *)g_ptr_array_index(st->parents, id)
                                                       : NULL;
}

/* Before a call that may make a child of `parent`: points the parent's list at its newest child
 * if it is known and returns the parent (the list's head in *head), else NULL. */
static stat_node *st_tail_begin(stats_tree *st, int parent, stat_node **head)
{
    const st_tail_t *t = &st_tails[(unsigned)parent % G_N_ELEMENTS(st_tails)];
    stat_node *p, *tail;
    if (t->st != st || t->parent != parent)
        return NULL;
    p = st_parent_node(st, parent);
    tail = st_parent_node(st, t->child);
    if (!p || !tail || tail->parent != p || tail->next)
        return NULL;
    *head = p->children;
    p->children = tail;
    return p;
}

/* After it: restores the list's head, and remembers node `id` if it is now the newest child. */
static int st_tail_end(stats_tree *st, int parent, stat_node *p, stat_node *head, int id)
{
    stat_node *node = st_parent_node(st, id);
    if (p)
        p->children = head;
    if (id > 0 && node && node->parent && node->parent->id == parent && !node->next) {
        st_tail_t *t = &st_tails[(unsigned)parent % G_N_ELEMENTS(st_tails)];
        t->st = st;
        t->parent = parent;
        t->child = id;
    }
    return id;
}

int shim_st_node(stats_tree *st, const char *name, int parent, int with_children)
{
    stat_node *head = NULL, *p = st_tail_begin(st, parent, &head);
    int id = stats_tree_create_node(st, name, parent, STAT_DT_INT, with_children ? 1 : 0);
    return st_tail_end(st, parent, p, head, id);
}

int shim_st_tick(stats_tree *st, const char *name, int parent, int with_children)
{
    stat_node *head = NULL, *p = st_tail_begin(st, parent, &head);
    int id = stats_tree_manip_node_int(MN_INCREASE, st, name, parent, with_children ? 1 : 0, 1);
    return st_tail_end(st, parent, p, head, id);
}

int shim_st_avg(stats_tree *st, const char *name, int parent, int value)
{
    return stats_tree_manip_node_int(MN_AVERAGE, st, name, parent, 0, value);
}

int shim_st_avg_float(stats_tree *st, const char *name, int parent, double value)
{
    stat_node *head = NULL, *p = st_tail_begin(st, parent, &head);
    int id = stats_tree_manip_node_float(MN_AVERAGE, st, name, parent, 1, (float)value);
    return st_tail_end(st, parent, p, head, id);
}

/* ------------------------------------------------------------------ packet_info */
uint32_t shim_pinfo_num(packet_info *pinfo) { return pinfo->num; }

int shim_pinfo_visited(packet_info *pinfo) { return PINFO_FD_VISITED(pinfo) ? 1 : 0; }

/* Whether the program still has earlier frame `num` (one with a time stamp). The capture's packet
 * provider is asked for that frame's time stamp, through the one exported function that asks it
 * for a frame given by number: frame_data_compare on relative times (each frame's time since its
 * reference frame, here `num`). Two stand-in frames one second apart compare as greater only when
 * the time stamp was found; when it was not, both times are zero or missing and they compare as
 * equal or by number (-1). Wireshark, sharkd and `tshark -2` find every frame in their frame
 * store; one-pass tshark keeps none and knows only the time reference and the previous displayed
 * and captured frames. Asked once per MQTT frame until the answer is no. */
int shim_frame_kept(packet_info *pinfo, uint32_t num)
{
    frame_data a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.num = 1;
    b.num = 2;
    a.has_ts = b.has_ts = 1;
    a.abs_ts.secs = 1;
    a.frame_ref_num = b.frame_ref_num = num;
    /* A frame not found is logged as a warning (4.0); it is the answer here, not a fault. */
    enum ws_log_level level = ws_log_get_level();
    ws_log_set_level(LOG_LEVEL_CRITICAL);
    int kept = frame_data_compare(pinfo->epan, &a, &b, COL_REL_TIME) > 0;
    ws_log_set_level(level);
    return kept;
}

void shim_pinfo_abs_ts(packet_info *pinfo, int64_t *secs, int32_t *nsecs)
{
    *secs = (int64_t)pinfo->abs_ts.secs;
    *nsecs = (int32_t)pinfo->abs_ts.nsecs;
}

static uint64_t endpoint_key(const address *a, uint32_t port)
{
    /* FNV-1a over the address type, bytes and port */
    uint64_t h = 1469598103934665603ULL;
    const uint8_t *p = (const uint8_t *)a->data;
    h = (h ^ (uint64_t)a->type) * 1099511628211ULL;
    for (int i = 0; p && i < a->len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    h = (h ^ (port & 0xff)) * 1099511628211ULL;
    h = (h ^ (port >> 8)) * 1099511628211ULL;
    return h;
}

uint64_t shim_pinfo_src_key(packet_info *pinfo) { return endpoint_key(&pinfo->src, pinfo->srcport); }
uint64_t shim_pinfo_dst_key(packet_info *pinfo) { return endpoint_key(&pinfo->dst, pinfo->destport); }

int shim_pinfo_has_proto(packet_info *pinfo, const char *name)
{
    return proto_is_frame_protocol(pinfo->layers, name) ? 1 : 0;
}

uint32_t shim_conversation_index(packet_info *pinfo)
{
    conversation_t *c = find_or_create_conversation(pinfo);
    return c ? c->conv_index : 0;
}

static int tree_wants_proto(proto_tree *tree, int proto)
{
    return tree && proto > 0 && proto_field_is_referenced(tree, proto);
}

int shim_proto_item_needed(proto_tree *tree, int proto)
{
    if (!tree || proto <= 0)
        return 0;
    if (PTREE_DATA(tree)->visible)
        return 1;
    /* A filter on the protocol itself (not only on its fields, which mark it indirectly). */
    header_field_info *h = proto_registrar_get_nth((unsigned)proto);
    return h && h->ref_type == HF_REF_TYPE_DIRECT;
}

static int tree_visible(proto_tree *tree)
{
    return tree && PTREE_DATA(tree)->visible;
}

int shim_field_referenced(proto_tree *tree, int hf)
{
    return tree && hf > 0 && proto_field_is_referenced(tree, hf);
}

int shim_registered_in_place(const hf_register_info *hfs, size_t n, const ei_register_info *eis,
                             size_t m)
{
    /* Wireshark registers the header_field_info inside the arrays it is given (the field's and
     * the expert item's) and marks a referenced field there: true of 4.0 to 4.6, checked here
     * so that a Wireshark keeping copies is asked through proto_field_is_referenced instead. */
    for (size_t i = 0; i < n; i++) {
        if (*hfs[i].p_id <= 0 || proto_registrar_get_nth((unsigned)*hfs[i].p_id) != &hfs[i].hfinfo)
            return 0;
    }
    for (size_t i = 0; i < m; i++) {
        if (!eis[i].ids || eis[i].ids->hf <= 0 ||
            proto_registrar_get_nth((unsigned)eis[i].ids->hf) != &eis[i].eiinfo.hf_info.hfinfo)
            return 0;
    }
    return 1;
}

static int experts_wanted(proto_tree *tree)
{
    static int expert_proto = -2, expert_tap = -2;
    if (expert_proto == -2)
        expert_proto = proto_get_id_by_filter_name("_ws.expert");
    if (expert_tap == -2)
        expert_tap = find_tap_id("expert");
    return (expert_tap >= 0 && have_tap_listener(expert_tap)) ||
           (tree && expert_proto > 0 && proto_field_is_referenced(tree, expert_proto));
}

void shim_frame_facts_of(packet_info *pinfo, proto_tree *tree, int proto, const int *taps,
                         size_t n_taps, shim_frame_facts *out)
{
    out->visited = PINFO_FD_VISITED(pinfo) ? 1 : 0;
    out->ts_secs = (int64_t)pinfo->abs_ts.secs;
    out->ts_nsecs = (int32_t)pinfo->abs_ts.nsecs;
    out->num = pinfo->num;
    out->src_port = pinfo->srcport;
    out->dst_port = pinfo->destport;
    out->has_ts = pinfo->fd->has_ts ? 1 : 0;
    out->has_columns = pinfo->cinfo != NULL;
    out->experts_wanted = (uint8_t)experts_wanted(tree);
    out->wants_proto = (uint8_t)tree_wants_proto(tree, proto);
    out->tree_visible = (uint8_t)tree_visible(tree);
    out->mqtt_version = (uint8_t)mqtt_default_version;
    uint8_t bits = 0;
    for (size_t i = 0; i < n_taps && i < 8; i++)
        if (taps[i] >= 0 && have_tap_listener(taps[i]))
            bits |= (uint8_t)(1u << i);
    out->taps = bits;
}

/* `s` (`len` bytes, not NUL-terminated) as a C string for a Wireshark call that copies it: in
 * `buf` when it fits, else in the packet pool. A NUL inside ends it there. */
#define SHIM_TEXT_BUF 256
static const char *nul_terminated(char buf[SHIM_TEXT_BUF], packet_info *pinfo, const char *s, size_t len)
{
    if (len >= SHIM_TEXT_BUF)
        return wmem_strndup(pinfo->pool, s, len);
    if (len)
        memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* Appends `len` bytes of `text` (no NUL among them) to every Info column: into its buffer (a
 * column set with col_set_str is copied there first, as Wireshark does), cut to fit the
 * 4096-byte buffer. `whole_chars`: a cut drops the last UTF-8 character whole, as 4.4's
 * ws_label_strcpy does, not mid-way, as 4.0's g_strlcat does. */
static void append_info(column_info *cinfo, const char *text, size_t len, int whole_chars)
{
    if (!col_get_writable(cinfo, COL_INFO) || cinfo->col_first[COL_INFO] < 0)
        return;
    for (int i = cinfo->col_first[COL_INFO]; i <= cinfo->col_last[COL_INFO]; i++) {
        col_item_t *c = &cinfo->columns[i];
        if (!c->fmt_matx[COL_INFO])
            continue;
        if (c->col_data != c->col_buf) {
            g_strlcpy(c->col_buf, c->col_data, COL_MAX_INFO_LEN);
            c->col_data = c->col_buf;
        }
        size_t at = strnlen(c->col_buf, COL_MAX_INFO_LEN - 1);
        size_t n = len < COL_MAX_INFO_LEN - 1 - at ? len : COL_MAX_INFO_LEN - 1 - at;
        if (whole_chars && n < len)
            while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
        memcpy(c->col_buf + at, text, n);
        c->col_buf[at + n] = '\0';
    }
}

#if !SHIM_WS_4_4
/* Wireshark 4.0 appends to a column with g_strlcat, one byte at a time past the text already there
 * (column-utils.c: col_append_str, col_do_append_str, COL_CHECK_APPEND); about 700 instructions
 * for each PUBLISH shown. The same bytes are written with strlen and memcpy: the text up to its
 * first NUL. */
void shim_col_append_info(packet_info *pinfo, const char *text, size_t len)
{
    append_info(pinfo->cinfo, text, strnlen(text, len), 0);
}
#else
/* Whether Wireshark 4.4's ws_label_strcpy escapes the character at `s[i]`: a C0 control or DEL
 * (`\n`, `\x01`), or a C1 control (U+0080 to U+009F: 0xC2 then 0x80 to 0x9F, `\u0085`). */
static inline int label_escapes(const unsigned char *s, size_t len, size_t i)
{
    unsigned char b = s[i];
    return b < 0x20 || b == 0x7F || (b == 0xC2 && i + 1 < len && s[i + 1] < 0xA0);
}

/* Whether ws_label_strcpy, through which every column append goes from 4.4 on, copies UTF-8 `s`
 * unchanged: no character it escapes. Eight bytes at a time: a word with no byte below 0x20, no
 * DEL and no 0xC2 needs no more look; the others are looked at byte by byte. */
static int label_copies_verbatim(const unsigned char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
#define SHIM_HAS_BELOW(w, n) (((w) - ones * (n)) & ~(w) & highs)
#define SHIM_HAS_ZERO(w) (((w) - ones) & ~(w) & highs)
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (!(SHIM_HAS_BELOW(w, 0x20) | SHIM_HAS_ZERO(w ^ (ones * 0x7F)) |
              SHIM_HAS_ZERO(w ^ (ones * 0xC2))))
            continue;
        for (size_t j = i; j < i + 8; j++)
            if (label_escapes(s, len, j))
                return 0;
    }
#undef SHIM_HAS_BELOW
#undef SHIM_HAS_ZERO
    for (; i < len; i++)
        if (label_escapes(s, len, i))
            return 0;
    return 1;
}

/* From 4.4 on Wireshark copies an appended text one character at a time through ws_label_strcpy
 * (column-utils.c: col_do_append_str, ws_label_strcat), about 950 instructions for each text
 * aliiot appends. Text it would copy unchanged (all of aliiot's but a hostile name's) is written
 * here as it would write it; anything it escapes goes through its own call. `text` is UTF-8 (a
 * Rust &str). */
void shim_col_append_info(packet_info *pinfo, const char *text, size_t len)
{
    len = strnlen(text, len);
    if (label_copies_verbatim((const unsigned char *)text, len)) {
        append_info(pinfo->cinfo, text, len, 1);
        return;
    }
    char buf[SHIM_TEXT_BUF];
    col_append_str(pinfo->cinfo, COL_INFO, nul_terminated(buf, pinfo, text, len));
}
#endif

/* ------------------------------------------------------------------ building the tree */
#define SHIM_GUARDED(expr)          \
    proto_item *volatile _it = NULL; \
    TRY {                            \
        _it = (expr);                \
    }                                \
    CATCH_ALL {                      \
        _it = NULL;                  \
    }                                \
    ENDTRY;                          \
    return _it

/* Labels. Wireshark 4.0 writes a label with vsnprintf into a 240-byte buffer, with no escaping
 * (proto.c: proto_tree_set_representation, proto_tree_set_representation_value,
 * proto_item_append_text); the functions below write the same bytes with memcpy, which a tree of
 * 13 items per MQTT packet notices (tshark -T fields builds a visible tree on 4.0). A label that
 * would not fit takes Wireshark's own path, so truncation is marked as Wireshark marks it. From
 * 4.4 on, labels are escaped and remember where their value is: there Wireshark's calls are used
 * as they are. */
#if !SHIM_WS_4_4
/* Whether Wireshark would write a label for `pi` (TRY_TO_FAKE_THIS_REPR, and hidden items get
 * none). */
static int label_wanted(proto_item *pi)
{
    return pi && PTREE_DATA(pi)->visible && PITEM_FINFO(pi) && !proto_item_is_hidden(pi);
}

static char *label_new(proto_item *pi)
{
    field_info *fi = PITEM_FINFO(pi);
    fi->rep = wmem_new(PNODE_POOL(pi), item_label_t);
    return fi->rep->representation;
}

/* The label of `pi` is the n bytes at s (n < ITEM_LABEL_LENGTH), if Wireshark would write one. */
static void set_label(proto_item *pi, const char *s, size_t n)
{
    if (label_wanted(pi)) {
        char *rep = label_new(pi);
        memcpy(rep, s, n);
        rep[n] = '\0';
    }
}

/* Decimal digits of v at the end of buf[11]; returns where they start. Not inlined: its locals
 * would sit beside its caller's TRY (setjmp). */
__attribute__((noinline)) static const char *decimal_u32(char buf[11], uint32_t v)
{
    char *p = buf + 10;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

/* "<field name>: <value> (<description>)" for a new item of field hf, in label[] when the whole
 * of it fits (its length), else nothing (0). */
static size_t value_label(char label[ITEM_LABEL_LENGTH], int hf, const char *v, size_t v_len,
                       const char *d, size_t d_len)
{
    header_field_info *hfinfo = proto_registrar_get_nth((unsigned)hf);
    if (!hfinfo || hfinfo->bitmask)
        return 0;
    size_t name_len = strlen(hfinfo->name);
    d_len = strnlen(d, d_len);
    if (name_len + 2 + v_len + 2 + d_len + 1 >= ITEM_LABEL_LENGTH)
        return 0;
    char *p = label;
    memcpy(p, hfinfo->name, name_len), p += name_len;
    *p++ = ':', *p++ = ' ';
    memcpy(p, v, v_len), p += v_len;
    *p++ = ' ', *p++ = '(';
    memcpy(p, d, d_len), p += d_len;
    *p++ = ')';
    return (size_t)(p - label);
}

/* The item `add` makes (of field `hf`, in a visible `tree`), labelled "<name>: <value> (<d>)" as
 * proto_tree_add_*_format_value(…, "<value> (%.*s)", d_len, d) labels it, and returned; or, when
 * the label does not fit, nothing: the caller goes on to Wireshark's own call. All of it inside
 * TRY: the field lookup can throw as well as the add. */
#define SHIM_GUARDED_LABELLED(value, value_len, add)                                    \
    do {                                                                                \
        char _label[ITEM_LABEL_LENGTH];                                                 \
        proto_item *volatile _it = NULL;                                                \
        volatile int _done = 0;                                                         \
        TRY {                                                                           \
            size_t _n = value_label(_label, hf, (value), (value_len), d, d_len);        \
            if (_n) {                                                                   \
                _it = (add);                                                            \
                if (_it != tree)                                                        \
                    set_label(_it, _label, _n);                                         \
                _done = 1;                                                              \
            }                                                                           \
        }                                                                               \
        CATCH_ALL {                                                                     \
            _it = NULL;                                                                 \
            _done = 1;                                                                  \
        }                                                                               \
        ENDTRY;                                                                         \
        if (_done)                                                                      \
            return _it;                                                                 \
    } while (0)
#endif

/* proto_item_append_text(pi, "%.*s", len, s) */
static void append_label(proto_item *pi, const char *s, size_t len)
{
#if !SHIM_WS_4_4
    if (!label_wanted(pi))
        return;
    field_info *fi = PITEM_FINFO(pi);
    if (!fi->rep)
        proto_item_fill_label(fi, label_new(pi));
    char *rep = fi->rep->representation;
    size_t cur = strlen(rep);
    if (cur >= ITEM_LABEL_LENGTH - 1)
        return;
    size_t n = strnlen(s, len);
    if (n > ITEM_LABEL_LENGTH - 1 - cur)
        n = ITEM_LABEL_LENGTH - 1 - cur;
    memcpy(rep + cur, s, n);
    rep[cur + n] = '\0';
#else
    proto_item_append_text(pi, "%.*s", (int)len, s);
#endif
}

proto_item *shim_add_protocol(proto_tree *tree, int proto, tvbuff_t *tvb, int start, int length,
                              const char *text, size_t text_len)
{
    if (!tree)
        return NULL;
    proto_item *volatile it = NULL;
    TRY {
        it = proto_tree_add_item(tree, proto, tvb, start, length, ENC_NA);
        if (it && text && text_len)
            append_label(it, text, text_len);
    }
    CATCH_ALL {
        it = NULL;
    }
    ENDTRY;
    return it;
}

proto_tree *shim_subtree(proto_item *item, int ett)
{
    if (!item)
        return NULL;
    return proto_item_add_subtree(item, ett);
}

proto_item *shim_add_string(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length,
                            packet_info *pinfo, const char *s, size_t len)
{
    if (!tree)
        return NULL;
    /* The value is copied into the item (its fvalue owns a copy in every version). */
    char buf[SHIM_TEXT_BUF];
    const char *v = nul_terminated(buf, pinfo, s, len);
    SHIM_GUARDED(proto_tree_add_string(tree, hf, tvb, start, length, v));
}

proto_item *shim_add_string_described(proto_tree *tree, int hf, tvbuff_t *tvb, int start,
                                      int length, packet_info *pinfo, const char *s, size_t len,
                                      const char *d, size_t d_len)
{
    if (!tree)
        return NULL;
    char buf[SHIM_TEXT_BUF];
    const char *v = nul_terminated(buf, pinfo, s, len);
#if !SHIM_WS_4_4
    if (PTREE_DATA(tree)->visible)
        SHIM_GUARDED_LABELLED(v, strlen(v), proto_tree_add_string(tree, hf, tvb, start, length, v));
#endif
    SHIM_GUARDED(proto_tree_add_string_format_value(tree, hf, tvb, start, length, v, "%s (%.*s)",
                                                    v, (int)d_len, d));
}

/* For a BASE_DEC field without value names: its label is the number. */
proto_item *shim_add_uint_described(proto_tree *tree, int hf, tvbuff_t *tvb, int start,
                                    int length, uint32_t v, const char *d, size_t d_len)
{
    if (!tree)
        return NULL;
#if !SHIM_WS_4_4
    if (PTREE_DATA(tree)->visible) {
        char digits[11];
        const char *dec = decimal_u32(digits, v);
        SHIM_GUARDED_LABELLED(dec, strlen(dec), proto_tree_add_uint(tree, hf, tvb, start, length, v));
    }
#endif
    SHIM_GUARDED(proto_tree_add_uint_format_value(tree, hf, tvb, start, length, v, "%u (%.*s)", v,
                                                  (int)d_len, d));
}

proto_item *shim_add_uint(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, uint32_t v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_uint(tree, hf, tvb, start, length, v));
}

proto_item *shim_add_int(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, int32_t v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_int(tree, hf, tvb, start, length, v));
}

proto_item *shim_add_bool(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, int v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_boolean(tree, hf, tvb, start, length, v ? 1 : 0));
}

proto_item *shim_add_double(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length, double v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_double(tree, hf, tvb, start, length, v));
}

proto_item *shim_add_time(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int length,
                          int64_t secs, int32_t nsecs)
{
    if (!tree)
        return NULL;
    nstime_t t;
    t.secs = (time_t)secs;
    t.nsecs = nsecs;
    SHIM_GUARDED(proto_tree_add_time(tree, hf, tvb, start, length, &t));
}

proto_item *shim_add_text_subtree(proto_tree *tree, int ett, tvbuff_t *tvb, proto_tree **subtree,
                                  const char *s, size_t len)
{
    *subtree = NULL;
    if (!tree)
        return NULL;
    proto_item *volatile it = NULL;
    proto_tree *volatile st = NULL;
    TRY {
#if !SHIM_WS_4_4
        size_t n = strnlen(s, len);
        if (PTREE_DATA(tree)->visible && n < ITEM_LABEL_LENGTH) {
            /* proto_tree_add_subtree_format: a text item (hf_text_only), its label, its subtree */
            it = proto_tree_add_item(tree, hf_text_only, tvb, 0, 0, ENC_NA);
            set_label(it, s, n);
            st = proto_item_add_subtree(it, ett);
        } else
#endif
            st = proto_tree_add_subtree_format(tree, tvb, 0, 0, ett, (proto_item **)&it, "%.*s",
                                               (int)len, s);
    }
    CATCH_ALL {
        it = NULL;
        st = NULL;
    }
    ENDTRY;
    *subtree = st;
    return it;
}

void shim_item_append_text(proto_item *item, const char *s, size_t len)
{
    if (!item)
        return;
    TRY {
        append_label(item, s, len);
    }
    CATCH_ALL {
    }
    ENDTRY;
}

void shim_item_set_generated(proto_item *item)
{
    if (item)
        proto_item_set_generated(item);
}

void shim_expert(packet_info *pinfo, proto_item *item, expert_field *ei, const char *s, size_t len)
{
    TRY {
        expert_add_info_format(pinfo, item, ei, "%.*s", (int)len, s);
    }
    CATCH_ALL {
    }
    ENDTRY;
}
