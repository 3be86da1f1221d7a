/* kafka_mock.c -- librdkafka's mock Kafka cluster as a process, for tests.
 *
 *   kafka_mock [-b BROKERS] [-t TOPIC:PARTITIONS]... -f BOOTSTRAP_FILE
 *
 * Brokers listen on 127.0.0.1 on random ports; "host:port,..." is written
 * to BOOTSTRAP_FILE (atomically) once the cluster is up.  Signals:
 *   SIGUSR1  all brokers down (connections closed, new ones refused)
 *   SIGUSR2  all brokers up
 *   SIGHUP   the next 3 Produce requests fail with NOT_LEADER_FOR_PARTITION
 *   SIGTERM, SIGINT  exit
 * After handling a signal the count of handled control signals is written
 * to BOOTSTRAP_FILE.ack, so a test knows the fault is in place. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define API_PRODUCE 0 /* Kafka ApiKey of ProduceRequest */

static int write_atomic(const char *path, const char *text)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int brokers = 1, opt;
    const char *file = NULL;
    char *topics[16];
    int ntopics = 0;
    while ((opt = getopt(argc, argv, "b:t:f:")) != -1) {
        switch (opt) {
        case 'b': brokers = atoi(optarg); break;
        case 't':
            if (ntopics < 16)
                topics[ntopics++] = optarg;
            break;
        case 'f': file = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-b brokers] [-t topic:partitions]... -f bootstrap_file\n",
                    argv[0]);
            return 2;
        }
    }
    if (!file || brokers < 1) {
        fprintf(stderr, "%s: -f bootstrap_file is required, -b at least 1\n", argv[0]);
        return 2;
    }

    /* Blocked before rd_kafka_new so librdkafka's threads inherit the mask
     * and only sigwait() below sees these. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL)) {
        perror("pthread_sigmask");
        return 1;
    }

    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char *colon = strrchr(topics[i], ':');
        int parts = colon ? atoi(colon + 1) : 1;
        if (colon)
            *colon = 0;
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], parts, 1);
        if (e)
            fprintf(stderr, "topic %s: %s\n", topics[i], rd_kafka_err2str(e));
    }

    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    char line[1024], ack[4096];
    snprintf(line, sizeof line, "%s\n", bs);
    snprintf(ack, sizeof ack, "%s.ack", file);
    printf("%s", line);
    fflush(stdout);
    int rc = write_atomic(ack, "0\n") || write_atomic(file, line) ? 1 : 0;
    if (rc)
        perror(file);

    unsigned handled = 0;
    while (!rc) {
        int sig;
        if (sigwait(&set, &sig))
            continue;
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == SIGUSR1) {
            rd_kafka_mock_broker_set_down(mc, -1);
            fprintf(stderr, "brokers down\n");
        } else if (sig == SIGUSR2) {
            rd_kafka_mock_broker_set_up(mc, -1);
            fprintf(stderr, "brokers up\n");
        } else if (sig == SIGHUP) {
            rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 3,
                                              RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                              RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                              RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
            fprintf(stderr, "3 produce errors pushed\n");
        }
        char n[32];
        snprintf(n, sizeof n, "%u\n", ++handled);
        if (write_atomic(ack, n))
            perror(ack);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
