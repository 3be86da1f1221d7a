/* kinds.h -- the one list of target kinds, in MinIO's order.  An X-macro:
 * define KIND(name, arn_kind, env_kind) and include this file (drivers.c
 * makes the registry of it, lmodule.c the luaopen_luagate_<name>
 * functions).  name is the config kind and the Lua module
 * (require "luagate.<name>"), and <name>_driver the driver's struct in
 * targets/<name>.c; arn_kind is the ARN and queue directory type;
 * env_kind the <KIND> of <prefix><KIND>_<KEY> variables (the prefix is
 * the driver's env_prefix).  Adding a kind: its driver file, one line
 * here, its tests (tests/unit/test_drivers.c checks every line). */
KIND(webhook, "webhook", "WEBHOOK")
KIND(amqp, "amqp", "AMQP")
KIND(kafka, "kafka", "KAFKA")
KIND(mqtt, "mqtt", "MQTT")
KIND(nats, "nats", "NATS")
KIND(nsq, "nsq", "NSQ")
KIND(mysql, "mysql", "MYSQL")
KIND(postgres, "postgresql", "POSTGRES")
KIND(redis, "redis", "REDIS")
KIND(elasticsearch, "elasticsearch", "ELASTICSEARCH")
KIND(file, "file", "FILE")
