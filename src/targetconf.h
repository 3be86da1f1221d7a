/* targetconf.h -- one target's settings: key/values checked against the
 * driver's key table plus the keys every target has. */
#ifndef LUAGATE_TARGETCONF_H
#define LUAGATE_TARGETCONF_H

#include <stddef.h>
#include "driver.h"

struct tconf_kv {
    char *key, *val;
};

struct target_conf {
    const struct kind_info *kind;
    char *id;   /* "PRIMARY", "_" */
    char *name; /* "kafka:PRIMARY" */
    struct tconf_kv *kv;
    size_t n, cap;
};

/* Keys every target accepts whatever its kind (enable, queue_dir, rules...). */
extern const struct key_spec tconf_common_keys[];

/* A target id: 1 to 64 letters, digits, _ or - ("PRIMARY", "_"). */
int tconf_valid_id(const char *id);

struct target_conf *tconf_new(const struct kind_info *kind, const char *id);
void tconf_free(struct target_conf *c);
/* Set (or replace) a raw value; the value is trimmed of surrounding blanks. */
int tconf_set(struct target_conf *c, const char *key, const char *val);
const char *tconf_raw(const struct target_conf *c, const char *key); /* NULL if unset */
/* The spec of a key for this target's kind, or NULL if the key is unknown. */
const struct key_spec *tconf_spec(const struct target_conf *c, const char *key);
/* Every key known, type checked, required keys present, driver checks.
 * -1 with "kafka:PRIMARY: key 'x' ..." in err on the first problem. */
int tconf_validate(const struct target_conf *c, char *err, size_t errlen);
/* "value" or "***" when the key is secret: the one place settings are printed. */
const char *tconf_printable(const struct target_conf *c, const char *key);

/* Replace, in text, every secret of this target (the values of its secret
 * keys, and the passwords inside URLs, DSNs and connection strings) by
 * "***".  Servers echo credentials in their errors; everything a target
 * reports passes through here before it is logged or shown. */
void tconf_redact(const struct target_conf *c, char *text, size_t size);

/* One host:port (len bytes of v; the port may be left out when
 * port_optional): 0, or -1 with why ("the port 99999 is out of range
 * (1-65535)", "must be host:port, without a scheme or credentials"...). */
int tconf_check_hostport(const char *v, size_t len, int port_optional, char *why, size_t whylen);

/* Value parsers shared by config and drivers.  0 ok, -1 bad. */
int tconf_parse_bool(const char *s, int *out);
int tconf_parse_duration_ms(const char *s, long long *out);
int tconf_parse_llong(const char *s, long long *out);

#endif
