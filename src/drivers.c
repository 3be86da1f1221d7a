/* drivers.c -- the list of target kinds.  A kind whose driver is not
 * linked in is still known (so its configuration is recognised) and is
 * refused at start with "target kind X is not available yet". */
#include <string.h>
#include "driver.h"

#define WEAK __attribute__((weak))
extern const struct driver webhook_driver WEAK, amqp_driver WEAK, kafka_driver WEAK,
    mqtt_driver WEAK, nats_driver WEAK, nsq_driver WEAK, mysql_driver WEAK,
    postgres_driver WEAK, redis_driver WEAK, elasticsearch_driver WEAK, file_driver WEAK;

static struct kind_info kinds[] = {
    { "webhook", "webhook", "WEBHOOK", &webhook_driver },
    { "amqp", "amqp", "AMQP", &amqp_driver },
    { "kafka", "kafka", "KAFKA", &kafka_driver },
    { "mqtt", "mqtt", "MQTT", &mqtt_driver },
    { "nats", "nats", "NATS", &nats_driver },
    { "nsq", "nsq", "NSQ", &nsq_driver },
    { "mysql", "mysql", "MYSQL", &mysql_driver },
    { "postgres", "postgresql", "POSTGRES", &postgres_driver },
    { "redis", "redis", "REDIS", &redis_driver },
    { "elasticsearch", "elasticsearch", "ELASTICSEARCH", &elasticsearch_driver },
    { "file", "file", "FILE", &file_driver }, /* luagate's own: LUAGATE_NOTIFY_FILE_* */
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
