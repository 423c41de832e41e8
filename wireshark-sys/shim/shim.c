/* See shim.h. Compiled by build.rs against the headers of the Wireshark being built for. */
#include "shim.h"

#include <string.h>
#include <epan/exceptions.h>
#include <epan/to_str.h>
#include <epan/address.h>
#include <epan/wmem_scopes.h>
#include <wsutil/wslog.h>
#include <epan/tap.h>
#include <epan/stats_tree.h>
#include <epan/stat_tap_ui.h>
#include <stdio.h>

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
/* stat_tap_init_cb returns bool from 4.6 on */
typedef bool shim_stat_init_ret;
#define SHIM_STAT_INIT_RETURN(ok) return (ok)
#else
typedef void shim_stat_init_ret;
#define SHIM_STAT_INIT_RETURN(ok) return
#endif

/* ------------------------------------------------------------------ heuristic trampoline */
static shim_heur_fn rust_heur;

static shim_bool heur_trampoline(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    /* MQTT passes the topic as a NUL-terminated string, never NULL; be defensive anyway. */
    const char *topic = data ? (const char *)data : "";
    return rust_heur(tvb, pinfo, tree, topic) ? 1 : 0;
}

void shim_register_heuristic(const char *list, shim_heur_fn fn, const char *display_name,
                             const char *internal_name, int proto)
{
    rust_heur = fn;
    heur_dissector_add(list, heur_trampoline, display_name, internal_name, proto, HEURISTIC_ENABLE);
}

dissector_handle_t shim_register_postdissector(dissector_t fn, int proto, const int *hfids, size_t n)
{
    dissector_handle_t h = create_dissector_handle(fn, proto);
    register_postdissector(h);
    GArray *wanted = g_array_new(FALSE, FALSE, (guint)sizeof(int));
    for (size_t i = 0; i < n; i++) {
        if (hfids[i] > 0)
            g_array_append_vals(wanted, &hfids[i], 1);
    }
    set_postdissector_wanted_hfids(h, wanted); /* Wireshark owns the array from here on */
    return h;
}

void shim_dissector_add_string(const char *table, const char *pattern, const char *dissector_name)
{
    dissector_handle_t h = find_dissector(dissector_name);
    if (h)
        dissector_add_string(table, pattern, h);
}

/* ------------------------------------------------------------------ transports */
static dissector_handle_t mqtt_handle, tls_handle;
static shim_bytes_pred rust_is_tls, rust_is_connect;
static int transport_proto = -1;

static const uint8_t *first_bytes(tvbuff_t *tvb, size_t *len)
{
    unsigned n = tvb_captured_length(tvb);
    if (n > 16)
        n = 16;
    *len = n;
    return n ? tvb_get_ptr(tvb, 0, (int)n) : NULL;
}

/* tcp/<MQTT port>: TLS or plain MQTT. A TLS connection is remembered on its conversation, so the
 * rest of it goes straight to TLS. */
static int dissect_mqtt_port(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    size_t len;
    const uint8_t *b = first_bytes(tvb, &len);
    /* This wrapper is one more layer between TCP and its real subdissector: give that one the
     * reassembly right TCP granted, as if TCP had called it directly. */
    pinfo->can_desegment = pinfo->saved_can_desegment;
    if (b && tls_handle && rust_is_tls(b, len)) {
        conversation_set_dissector(find_or_create_conversation(pinfo), tls_handle);
        return call_dissector_with_data(tls_handle, tvb, pinfo, tree, data);
    }
    return call_dissector_with_data(mqtt_handle, tvb, pinfo, tree, data);
}

/* Decrypted TLS data: MQTT when the connection began with a CONNECT. */
static shim_bool heur_mqtt_in_tls(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    conversation_t *conv = find_or_create_conversation(pinfo);
    if (!conversation_get_proto_data(conv, transport_proto)) {
        size_t len;
        const uint8_t *b = first_bytes(tvb, &len);
        if (!b || !rust_is_connect(b, len))
            return 0;
        conversation_add_proto_data(conv, transport_proto, GUINT_TO_POINTER(1));
    }
    pinfo->can_desegment = pinfo->saved_can_desegment;
    call_dissector_with_data(mqtt_handle, tvb, pinfo, tree, data);
    return 1;
}

static shim_ws_pieces_fn rust_ws_pieces;

/* ws.protocol mqtt: cut the WebSocket message stream back into whole MQTT packets. */
static int dissect_mqtt_ws(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    unsigned n = tvb_captured_length(tvb);
    if (n == 0)
        return 0;
    const uint8_t *msg = tvb_get_ptr(tvb, 0, (int)n);
    shim_ws_piece pieces[64];
    size_t count = rust_ws_pieces(pinfo, msg, n, pieces, 64);
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
        call_dissector_with_data(mqtt_handle, t, pinfo, tree, data);
        /* MQTT clears the Info column on each call: keep what the previous call wrote. */
        col_set_fence(pinfo->cinfo, COL_INFO);
    }
    return (int)n;
}

/* The TCP ports MQTT is registered on (its port preference), collected from the table. */
typedef struct {
    uint32_t ports[64];
    size_t n;
} port_list;

static void collect_mqtt_ports(const char *table_name, ftenum_t selector_type, gpointer key,
                               gpointer value, gpointer user_data)
{
    (void)table_name; (void)selector_type;
    port_list *l = user_data;
    if (dtbl_entry_get_handle((dtbl_entry_t *)value) == mqtt_handle && l->n < 64)
        l->ports[l->n++] = GPOINTER_TO_UINT(key);
}

void shim_register_transports(int proto, const uint32_t *mqtt_ports, size_t n_ports,
                              shim_bytes_pred is_tls_client_hello, shim_bytes_pred is_mqtt_connect,
                              shim_ws_pieces_fn ws_pieces)
{
    rust_ws_pieces = ws_pieces;
    transport_proto = proto;
    rust_is_tls = is_tls_client_hello;
    rust_is_connect = is_mqtt_connect;
    mqtt_handle = find_dissector("mqtt");
    tls_handle = find_dissector("tls");
    if (!mqtt_handle)
        return;
    /* The port handle belongs to MQTT, not aliiot: disabling aliiot must leave MQTT on its port. */
    int proto_mqtt = proto_get_id_by_filter_name("mqtt");
    dissector_handle_t port_handle = create_dissector_handle_with_name_and_description(
        dissect_mqtt_port, proto_mqtt, "aliiot_mqtt_port", "MQTT, or MQTT over TLS (aliiot)");
    /* Every TCP port MQTT is on (1883, or what its preference says); the given ports if none. */
    port_list found = { .n = 0 };
    dissector_table_foreach("tcp.port", collect_mqtt_ports, &found);
    if (found.n == 0) {
        for (size_t i = 0; i < n_ports && i < 64; i++)
            found.ports[found.n++] = mqtt_ports[i];
    }
    for (size_t i = 0; i < found.n; i++) {
        dissector_add_uint("tcp.port", found.ports[i], port_handle);
        dissector_add_uint("tls.port", found.ports[i], mqtt_handle);
    }
    heur_dissector_add("tls", heur_mqtt_in_tls, "MQTT over TLS (aliiot)", "aliiot_mqtt_tls", proto, HEURISTIC_ENABLE);
    dissector_handle_t ws_handle = create_dissector_handle_with_name_and_description(
        dissect_mqtt_ws, proto_mqtt, "aliiot_mqtt_ws", "MQTT over WebSocket (aliiot)");
    dissector_add_string("ws.protocol", "mqtt", ws_handle);
    dissector_add_string("ws.protocol", "mqttv3.1", ws_handle);
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
}

const char *shim_pref_keys_file(void)
{
    return keys_file_pref ? keys_file_pref : "";
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

/* ------------------------------------------------------------------ taps and statistics */
int shim_register_tap(const char *name) { return register_tap(name); }

int shim_have_tap_listener(int tap_id) { return have_tap_listener(tap_id) ? 1 : 0; }

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

static shim_st_packet_fn rust_st_packet;

static tap_packet_status st_packet_trampoline(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt,
                                              const void *data, tap_flags_t flags)
{
    (void)pinfo; (void)edt; (void)flags;
    return rust_st_packet && rust_st_packet(st, data) ? TAP_PACKET_REDRAW : TAP_PACKET_DONT_REDRAW;
}

void shim_register_stats_tree(const char *tap, const char *abbr, const char *name,
                              shim_st_init_fn init, shim_st_packet_fn packet)
{
    rust_st_packet = packet;
#if SHIM_WS_4_4
    stats_tree_cfg *cfg = stats_tree_register_plugin(tap, abbr, name, 0, st_packet_trampoline, init, NULL);
    stats_tree_set_group(cfg, REGISTER_PACKET_STAT_GROUP_UNSORTED);
#else
    stats_tree_register_plugin(tap, abbr, name, 0, st_packet_trampoline, init, NULL);
#endif
}

static void (*cli_reset)(void);
static void (*cli_packet)(const void *data);
static void (*cli_draw)(void);
static const char *cli_prefix;

static void cli_reset_trampoline(void *tapdata) { (void)tapdata; if (cli_reset) cli_reset(); }

static tap_packet_status cli_packet_trampoline(void *tapdata, packet_info *pinfo, epan_dissect_t *edt,
                                               const void *data, tap_flags_t flags)
{
    (void)tapdata; (void)pinfo; (void)edt; (void)flags;
    if (cli_packet)
        cli_packet(data);
    return TAP_PACKET_REDRAW;
}

static void cli_draw_trampoline(void *tapdata) { (void)tapdata; if (cli_draw) cli_draw(); }

static int cli_tapdata;

static shim_stat_init_ret cli_init(const char *opt_arg, void *userdata)
{
    (void)userdata;
    const char *filter = NULL;
    size_t n = strlen(cli_prefix);
    if (opt_arg && strncmp(opt_arg, cli_prefix, n) == 0 && opt_arg[n] == ',')
        filter = opt_arg + n + 1;
    GString *err = register_tap_listener("aliiot", &cli_tapdata, filter, 0, cli_reset_trampoline,
                                         cli_packet_trampoline, cli_draw_trampoline, NULL);
    if (err) {
        fprintf(stderr, "aliiot: cannot register the %s statistic: %s\n", cli_prefix, err->str);
        g_string_free(err, TRUE);
        SHIM_STAT_INIT_RETURN(0);
    }
    SHIM_STAT_INIT_RETURN(1);
}

void shim_register_cli_stat(const char *cli, const char *title, void (*reset)(void),
                            void (*packet)(const void *data), void (*draw)(void))
{
    static stat_tap_ui ui;
    cli_reset = reset;
    cli_packet = packet;
    cli_draw = draw;
    cli_prefix = cli;
    ui.group = REGISTER_STAT_GROUP_GENERIC;
    ui.title = title;
    ui.cli_string = cli;
    ui.tap_init_cb = cli_init;
    ui.nparams = 0;
    ui.params = NULL;
    register_stat_tap_ui(&ui, NULL);
}

int shim_st_node(stats_tree *st, const char *name, int parent, int with_children)
{
    return stats_tree_create_node(st, name, parent, STAT_DT_INT, with_children ? 1 : 0);
}

int shim_st_tick(stats_tree *st, const char *name, int parent, int with_children)
{
    return stats_tree_manip_node_int(MN_INCREASE, st, name, parent, with_children ? 1 : 0, 1);
}

int shim_st_avg(stats_tree *st, const char *name, int parent, int value)
{
    return stats_tree_manip_node_int(MN_AVERAGE, st, name, parent, 0, value);
}

/* ------------------------------------------------------------------ packet_info */
uint32_t shim_pinfo_num(packet_info *pinfo) { return pinfo->num; }

int shim_pinfo_visited(packet_info *pinfo) { return PINFO_FD_VISITED(pinfo) ? 1 : 0; }

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

void shim_pinfo_ports(packet_info *pinfo, uint32_t *src, uint32_t *dst)
{
    *src = pinfo->srcport;
    *dst = pinfo->destport;
}

int shim_pinfo_has_proto(packet_info *pinfo, const char *name)
{
    return proto_is_frame_protocol(pinfo->layers, name) ? 1 : 0;
}

uint32_t shim_conversation_index(packet_info *pinfo)
{
    conversation_t *c = find_or_create_conversation(pinfo);
    return c ? c->conv_index : 0;
}

void shim_col_set_protocol(packet_info *pinfo, const char *static_text)
{
    col_set_str(pinfo->cinfo, COL_PROTOCOL, static_text);
}

int shim_tree_wants_proto(proto_tree *tree, int proto)
{
    return tree && proto > 0 && proto_field_is_referenced(tree, proto);
}

int shim_experts_wanted(proto_tree *tree)
{
    static int expert_proto = -2, expert_tap = -2;
    if (expert_proto == -2)
        expert_proto = proto_get_id_by_filter_name("_ws.expert");
    if (expert_tap == -2)
        expert_tap = find_tap_id("expert");
    return (expert_tap >= 0 && have_tap_listener(expert_tap)) ||
           (tree && expert_proto > 0 && proto_field_is_referenced(tree, expert_proto));
}

int shim_pinfo_has_columns(packet_info *pinfo)
{
    return pinfo && pinfo->cinfo != NULL;
}

void shim_col_append_info(packet_info *pinfo, const char *text, size_t len)
{
    char *s = wmem_strndup(pinfo->pool, text, len);
    col_append_str(pinfo->cinfo, COL_INFO, s);
}

/* ------------------------------------------------------------------ reading fields */
unsigned shim_finfo_count(proto_tree *tree, int hf)
{
    if (!tree || hf <= 0)
        return 0;
    GPtrArray *a = proto_get_finfo_ptr_array(tree, hf);
    return a ? a->len : 0;
}

const void *shim_finfo_array(proto_tree *tree, int hf, unsigned *len)
{
    *len = 0;
    if (!tree || hf <= 0)
        return NULL;
    GPtrArray *a = proto_get_finfo_ptr_array(tree, hf);
    if (!a)
        return NULL;
    *len = a->len;
    return a;
}

int shim_finfo_get(proto_tree *tree, int hf, unsigned i, shim_finfo *out)
{
    unsigned len;
    const void *a = shim_finfo_array(tree, hf, &len);
    return shim_finfo_read(a, i, hf, out);
}

int shim_finfo_read(const void *array, unsigned i, int hf, shim_finfo *out)
{
    memset(out, 0, sizeof *out);
    const GPtrArray *a = array;
    if (!a || i >= a->len)
        return 0;
    field_info *fi = (field_info *)g_ptr_array_index(a, i);
    if (!fi)
        return 0;
    out->hf = hf;
    out->ds_tvb = fi->ds_tvb;
    out->start = fi->start;
    out->length = fi->length;
    out->generated = FI_GET_FLAG(fi, FI_GENERATED) ? 1 : 0;
    if (fi->ds_tvb && fi->length >= 0 && fi->start >= 0 &&
        tvb_bytes_exist(fi->ds_tvb, fi->start, fi->length)) {
        out->bytes = tvb_get_ptr(fi->ds_tvb, fi->start, fi->length);
    }
    switch (fi->hfinfo->type) {
    case FT_UINT8: case FT_UINT16: case FT_UINT24: case FT_UINT32: case FT_FRAMENUM:
    case FT_CHAR:
        out->uint_value = fvalue_get_uinteger(FINFO_VALUE(fi));
        break;
    case FT_BOOLEAN:
        out->uint_value = fvalue_get_uinteger64(FINFO_VALUE(fi)) ? 1 : 0;
        break;
    case FT_STRING: case FT_STRINGZ:
        out->str_value = fvalue_get_string(FINFO_VALUE(fi));
        break;
    default:
        break;
    }
    return 1;
}

const void *shim_tvb_identity(tvbuff_t *tvb) { return tvb; }

int shim_ds_index(packet_info *pinfo, const void *ds_tvb)
{
    int i = 0;
    for (GSList *l = pinfo ? pinfo->data_src : NULL; l; l = l->next, i++) {
        if ((const void *)get_data_source_tvb((const struct data_source *)l->data) == ds_tvb)
            return i;
    }
    return -1;
}

const uint8_t *shim_ds_bytes(packet_info *pinfo, int idx, int start, int length)
{
    if (!pinfo || idx < 0 || start < 0 || length < 0)
        return NULL;
    GSList *l = g_slist_nth(pinfo->data_src, (guint)idx);
    if (!l)
        return NULL;
    tvbuff_t *tvb = get_data_source_tvb((const struct data_source *)l->data);
    const uint8_t *p = NULL;
    if (!tvb || !tvb_bytes_exist(tvb, start, length))
        return NULL;
    TRY {
        p = tvb_get_ptr(tvb, start, length);
    }
    CATCH_ALL {
        p = NULL;
    }
    ENDTRY;
    return p;
}

const uint8_t *shim_tvb_bytes(tvbuff_t *tvb, uint32_t *len)
{
    *len = 0;
    if (!tvb)
        return NULL;
    unsigned n = tvb_captured_length(tvb);
    if (n == 0)
        return NULL;
    *len = n;
    return tvb_get_ptr(tvb, 0, (int)n);
}

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

proto_item *shim_add_protocol(proto_tree *tree, int proto, tvbuff_t *tvb, int start, int length,
                              const char *text, size_t text_len)
{
    if (!tree)
        return NULL;
    proto_item *volatile it = NULL;
    TRY {
        it = proto_tree_add_item(tree, proto, tvb, start, length, ENC_NA);
        if (it && text && text_len)
            proto_item_append_text(it, "%.*s", (int)text_len, text);
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

proto_item *shim_add_string(proto_tree *tree, int hf, tvbuff_t *tvb, packet_info *pinfo,
                            const char *s, size_t len)
{
    if (!tree)
        return NULL;
    char *v = wmem_strndup(pinfo->pool, s, len);
    SHIM_GUARDED(proto_tree_add_string(tree, hf, tvb, 0, 0, v));
}

proto_item *shim_add_uint(proto_tree *tree, int hf, tvbuff_t *tvb, uint32_t v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_uint(tree, hf, tvb, 0, 0, v));
}

proto_item *shim_add_int(proto_tree *tree, int hf, tvbuff_t *tvb, int32_t v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_int(tree, hf, tvb, 0, 0, v));
}

proto_item *shim_add_bool(proto_tree *tree, int hf, tvbuff_t *tvb, int v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_boolean(tree, hf, tvb, 0, 0, v ? 1 : 0));
}

proto_item *shim_add_double(proto_tree *tree, int hf, tvbuff_t *tvb, double v)
{
    if (!tree)
        return NULL;
    SHIM_GUARDED(proto_tree_add_double(tree, hf, tvb, 0, 0, v));
}

proto_item *shim_add_time(proto_tree *tree, int hf, tvbuff_t *tvb, int64_t secs, int32_t nsecs)
{
    if (!tree)
        return NULL;
    nstime_t t;
    t.secs = (time_t)secs;
    t.nsecs = nsecs;
    SHIM_GUARDED(proto_tree_add_time(tree, hf, tvb, 0, 0, &t));
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
        st = proto_tree_add_subtree_format(tree, tvb, 0, 0, ett, (proto_item **)&it, "%.*s", (int)len, s);
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
        proto_item_append_text(item, "%.*s", (int)len, s);
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
