/* drivers.c -- the registry of target kinds, made from src/kinds.h.  A
 * kind whose driver is not linked in is still known (so its configuration
 * is recognised) and is refused at start with "target kind X is not
 * available yet". */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "driver.h"

#define WEAK __attribute__((weak))
#define KIND(name, arn_kind, env_kind) extern const struct driver name##_driver WEAK;
#include "kinds.h"
#undef KIND

static struct kind_info kinds[] = {
#define KIND(name, arn_kind, env_kind) { #name, arn_kind, env_kind, &name##_driver },
#include "kinds.h"
#undef KIND
};

const struct kind_info *driver_kinds(size_t *n)
{
    *n = sizeof kinds / sizeof kinds[0];
    return kinds;
}

/* Accepts the config kind ("postgres") and the ARN kind ("postgresql"). */
const struct kind_info *driver_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind) || !strcmp(kinds[i].arn_kind, kind))
            return &kinds[i];
    return NULL;
}

const struct driver *driver_find(const char *kind)
{
    const struct kind_info *k = driver_kind(kind);
    return k ? k->drv : NULL;
}

const char *driver_env_prefix(const struct kind_info *k)
{
    return k->drv && k->drv->env_prefix ? k->drv->env_prefix : DRIVER_MINIO_PREFIX;
}

int driver_is_minio(const struct kind_info *k)
{
    return !strcmp(driver_env_prefix(k), DRIVER_MINIO_PREFIX);
}

void driver_env_name(const struct kind_info *k, const struct key_spec *s, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s_", driver_env_prefix(k), k->env_kind);
    for (const char *p = s ? (s->env ? s->env : s->name) : ""; *p && n >= 0 && (size_t)n + 1 < len; p++)
        out[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    if (n >= 0 && (size_t)n < len)
        out[n] = 0;
}

enum shape driver_shape(const struct driver *d, const char *format)
{
    if (!d)
        return SHAPE_ENVELOPE;
    return d->shape[format && !strcasecmp(format, "access")];
}
