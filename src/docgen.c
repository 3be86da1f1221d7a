/* docgen.c -- `luagate docs`: the Markdown configuration reference, written
 * from the same key tables that validation, the environment parser and
 * `--help-target` use (Fluent Bit's config_map idea), so the reference
 * cannot say something the gateway does not do. */
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "docgen.h"
#include "targetconf.h"
#include "sendopts.h"

static void send_opts_rows(FILE *out, const struct send_opt *own);

static const char *type_name(enum key_type t)
{
    static const char *names[] = { "string", "bool", "int", "uint", "duration", "url", "host:port",
                                   "list", "path" };
    return (size_t)t < sizeof names / sizeof names[0] ? names[t] : "string";
}

/* Text for a table cell: '|' escaped, '<' and '>' as entities so that
 * "<ID>" in a help line is not read as HTML. */
static void cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else
            fputc(*s, out);
    }
}

static void flags(FILE *out, unsigned f)
{
    const char *sep = "";
    if (f & KEY_REQUIRED)
        fprintf(out, "%srequired", sep), sep = ", ";
    if (f & KEY_SECRET)
        fprintf(out, "%ssecret", sep), sep = ", ";
    if (f & KEY_ENV_ONLY)
        fprintf(out, "%senv only", sep), sep = ", ";
}

static void key_row(FILE *out, const struct kind_info *k, const struct key_spec *s, int env_generic)
{
    char env[160];
    if (env_generic) {
        /* the common keys: one row for every kind */
        char up[96];
        size_t i = 0;
        for (const char *p = s->env ? s->env : s->name; *p && i + 1 < sizeof up; p++)
            up[i++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        up[i] = 0;
        snprintf(env, sizeof env, "MINIO_NOTIFY_<KIND>_%s[_<ID>]", up);
    } else {
        driver_env_name(k, s, env, sizeof env - 8);
        strcat(env, "[_<ID>]");
    }
    fprintf(out, "| `%s` | %s | ", s->name, type_name(s->type));
    if (s->def && *s->def) {
        fputc('`', out);
        cell(out, s->def);
        fputc('`', out);
    }
    fprintf(out, " | `%s` | ", env);
    flags(out, s->flags);
    fputs(" | ", out);
    cell(out, s->help ? s->help : "");
    fputs(" |\n", out);
}

static void table_head(FILE *out)
{
    fputs("| key | type | default | environment variable | flags | meaning |\n"
          "|---|---|---|---|---|---|\n",
          out);
}

static void kind_section(FILE *out, const struct kind_info *k)
{
    char prefix[64];
    driver_env_name(k, NULL, prefix, sizeof prefix);
    fprintf(out, "## %s\n\n", k->kind);
    if (k->drv && k->drv->about)
        fprintf(out, "%s ", k->drv->about);
    else
        fprintf(out, "MinIO's `notify_%s`. ", k->kind);
    fprintf(out, "ARN `arn:minio:sqs::<ID>:%s`; variables `%s<KEY>[_<ID>]`, declared by "
            "`%sENABLE[_<ID>]=on`.\n\n", k->arn_kind, prefix, prefix);
    if (!k->drv) {
        fputs("Not available in this build.\n\n", out);
        return;
    }
    table_head(out);
    int hidden = 0;
    for (const struct key_spec *s = k->drv->keys; s && s->name; s++) {
        if (s->flags & KEY_HIDDEN)
            hidden++;
        else
            key_row(out, k, s, 0);
    }
    if (hidden) {
        fputs("\nAlso accepted for MinIO compatibility (not listed by `--help-target`):\n\n", out);
        for (const struct key_spec *s = k->drv->keys; s && s->name; s++)
            if (s->flags & KEY_HIDDEN) {
                char env[160];
                driver_env_name(k, s, env, sizeof env);
                fprintf(out, "- `%s` (%s%s, `%s[_<ID>]`): ", s->name, type_name(s->type),
                        (s->flags & KEY_ENV_ONLY) ? ", env only" : "", env);
                cell(out, s->help ? s->help : "");
                fputc('\n', out);
            }
    }
    fputs("\nPlus the [keys of every target](#keys-of-every-target).\n\n", out);
    send_opts_rows(out, k->drv->send_opts);
}

/* The options send(target, payload, opts) takes for a kind: any other is
 * a script error at that line (sendopts.c). */
static void send_opts_rows(FILE *out, const struct send_opt *own)
{
    fputs("Options of `send(target, payload, opts)` for this kind (any other is a script error):\n\n"
          "| option | value | meaning |\n|---|---|---|\n", out);
    const struct send_opt *tabs[2] = { own, sendopts_common };
    for (int i = 0; i < 2; i++)
        for (const struct send_opt *o = tabs[i]; o && o->name; o++) {
            char want[96];
            sendopts_describe(o, want, sizeof want);
            fprintf(out, "| `%s` | %s | ", o->name, want);
            cell(out, o->help);
            fputs(" |\n", out);
        }
    fputc('\n', out);
}

static const char *setting_type(enum config_type t)
{
    static const char *const names[] = {
        [CONF_STR] = "string", [CONF_OPT_STR] = "string", [CONF_FILE] = "path", [CONF_SIZE] = "uint",
        [CONF_ULONG] = "uint",
        [CONF_UINT] = "uint", [CONF_DURATION] = "duration", [CONF_WINDOW] = "duration",
        [CONF_LOG_FORMAT] = "`text` or `json`", [CONF_ENV_NAMES] = "list",
        [CONF_LOG_LEVEL] = "`debug`, `info`, `warn` or `error`", [CONF_BOOL] = "bool",
    };
    return names[t];
}

/* The gateway's own settings, from config.c's table. */
static void settings_section(FILE *out)
{
    fputs("\n## The gateway's own settings\n\n"
          "Top-level keys of the configuration file; each has a variable, which wins over the file. "
          "`commit_window` also takes microseconds (`500us`).\n\n"
          "| key | type | default | environment variable | meaning |\n"
          "|---|---|---|---|---|\n",
          out);
    for (const struct config_key *k = config_keys; k->name; k++) {
        fprintf(out, "| `%s` | %s | ", k->name, setting_type(k->type));
        if (*k->def) {
            fputc('`', out);
            cell(out, k->def);
            fputc('`', out);
        }
        fprintf(out, " | `%s` | ", k->env);
        cell(out, k->help);
        fputs(" |\n", out);
    }
}

int docgen_main(FILE *out)
{
    size_t n;
    const struct kind_info *kinds = driver_kinds(&n);
    fputs("# luagate configuration reference\n\n"
          "<!-- Generated by `luagate docs` from the key tables (targets/*.c, src/targetconf.c, src/config.c).\n"
          "     Do not edit: change a table, then run `luagate docs > docs/configuration.md`;\n"
          "     tests/integration/test_docs.sh fails while this file is out of date. -->\n\n"
          "Targets are declared in the configuration file (`-c FILE`) with MinIO's key names:\n\n"
          "```lua\n"
          "targets = {\n"
          "  [\"kafka:PRIMARY\"] = { brokers = \"127.0.0.1:9092\", topic = \"bucketevents\" },\n"
          "}\n"
          "```\n\n"
          "or, as in MinIO, in the environment: `MINIO_NOTIFY_<KIND>_ENABLE_<ID>=on` declares the "
          "target `<kind>:<ID>` (`MINIO_NOTIFY_<KIND>_ENABLE=on` the default target `<kind>:_`) and "
          "`MINIO_NOTIFY_<KIND>_<KEY>_<ID>` (`MINIO_NOTIFY_<KIND>_<KEY>` for `_`) sets one of its "
          "keys. A variable wins over the file, key by key. `luagate import` turns the output of "
          "`mc admin config get ALIAS notify_<kind>` into such a file, and `luagate import --bucket "
          "NAME FILE` a bucket's `mc event list` into the `buckets` key (MinIO's bucket notification "
          "rules, README.md).\n\n"
          "The gateway's own settings (`listen`, `queue_dir`, `script`, ...) are at the end: "
          "[the gateway's own settings](#the-gateways-own-settings).\n\n"
          "Types:\n\n"
          "| type | accepted values |\n"
          "|---|---|\n"
          "| string | any text |\n"
          "| bool | `on`/`off`, `true`/`false`, `1`/`0` (a Lua boolean in the file) |\n"
          "| int, uint | a decimal integer (uint: not negative) |\n"
          "| duration | Go syntax: `500ms`, `10s`, `1m30s`; a bare number is seconds |\n"
          "| url | `scheme://host[:port][/path]` |\n"
          "| host:port | `host:port` |\n"
          "| list | comma separated (a Lua list of strings in the file) |\n"
          "| path | a file system path |\n\n"
          "Flags: **required** is refused at start when empty; **secret** is never printed (logs, "
          "`/health`, `luagate check`, errors); **env only** is read by MinIO from its environment "
          "only.\n\n"
          "Kinds:",
          out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s [%s](#%s)", i ? "," : "", kinds[i].kind, kinds[i].kind);
    fputs(".\n\n", out);
    for (size_t i = 0; i < n; i++)
        kind_section(out, &kinds[i]);
    fputs("## Keys of every target\n\n"
          "`<KIND>` is the kind's variable name (`WEBHOOK`, `POSTGRES`, ...; `LUAGATE_NOTIFY_FILE_` "
          "for `file`). A target declared in the file is on unless it says `enable = false`; one "
          "declared in the environment is on when its `..._ENABLE[_<ID>]` variable is.\n\n",
          out);
    table_head(out);
    for (const struct key_spec *s = tconf_common_keys; s->name; s++)
        key_row(out, NULL, s, 1);
    settings_section(out);
    return fflush(out) || ferror(out) ? 1 : 0;
}
