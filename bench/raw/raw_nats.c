/* raw_nats.c -- cnats baselines.
 *
 *   raw_nats nats://HOST:PORT core SUBJECT N [FLUSH_EVERY]   publish, flush every 256
 *   raw_nats nats://HOST:PORT js   SUBJECT N [MAX_PENDING]   JetStream async publish
 *   raw_nats nats://HOST:PORT cleanup SUBJECT                delete the bench stream
 *
 * core: natsConnection_Publish of the sample envelopes, natsConnection_Flush
 * (PING/PONG: the server has read everything before it) every FLUSH_EVERY.
 * js: creates stream LGBENCH (file storage, the JetStream default) on
 * SUBJECT, then js_PublishAsync with PublishAsync.MaxPending = MAX_PENDING
 * (default 4096) and js_PublishAsyncComplete at the end; counts PubAcks in
 * the ack handler (an error fails the run). */
#include <nats/nats.h>
#include "raw_common.h"

static size_t acks, errs;

static void ack_handler(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *c)
{
    (void)js, (void)pa, (void)c;
    if (pae)
        errs++;
    else
        acks++;
    natsMsg_Destroy(m);
}

static void chk(natsStatus s, const char *what)
{
    if (s == NATS_OK)
        return;
    fprintf(stderr, "raw_nats: %s: %s (%s)\n", what, natsStatus_GetText(s),
            nats_GetLastError(NULL));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: raw_nats URL core|js|cleanup SUBJECT [N] [WINDOW]\n");
        return 2;
    }
    const char *url = argv[1], *mode = argv[2], *subj = argv[3];
    size_t n = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
    int js_mode = !strcmp(mode, "js"), cleanup = !strcmp(mode, "cleanup");
    size_t win = argc > 5 ? strtoul(argv[5], NULL, 10) : (js_mode ? 4096 : 256);
    if (raw_load())
        return 2;
    natsConnection *nc = NULL;
    chk(natsConnection_ConnectTo(&nc, url), "connect");
    jsCtx *js = NULL;
    if (js_mode || cleanup) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.PublishAsync.MaxPending = (int64_t)win;
        jo.PublishAsync.AckHandler = ack_handler;
        jo.Wait = 10000;
        chk(natsConnection_JetStream(&js, nc, &jo), "jetstream");
        jsErrCode jerr = 0;
        if (cleanup) {
            js_DeleteStream(js, "LGBENCH", NULL, &jerr);
            jsCtx_Destroy(js);
            natsConnection_Destroy(nc);
            return 0;
        }
        js_DeleteStream(js, "LGBENCH", NULL, &jerr);
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = "LGBENCH";
        const char *subjects[] = { subj };
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        jsStreamInfo *si = NULL;
        chk(js_AddStream(&si, js, &sc, NULL, &jerr), "add stream");
        jsStreamInfo_Destroy(si);
    }
    size_t bytes = 0;
    raw_start();
    for (size_t i = 0; i < n; i++) {
        const char *p = raw_payload(i, 0);
        int len = (int)strlen(p);
        bytes += (size_t)len;
        if (js_mode) {
            natsStatus s;
            while ((s = js_PublishAsync(js, subj, p, len, NULL)) == NATS_TIMEOUT)
                ; /* MaxPending reached and jo.Wait elapsed: keep waiting */
            chk(s, "js publish");
        } else {
            chk(natsConnection_Publish(nc, subj, p, len), "publish");
            if ((i + 1) % win == 0 || i + 1 == n)
                chk(natsConnection_FlushTimeout(nc, 10000), "flush");
        }
    }
    if (js_mode) {
        jsPubOptions wo;
        jsPubOptions_Init(&wo);
        wo.MaxWait = 30000;
        chk(js_PublishAsyncComplete(js, &wo), "publish complete");
    }
    raw_done(js_mode ? "nats-js" : "nats-core", n, bytes);
    if (js_mode && (errs || acks != n)) {
        fprintf(stderr, "raw_nats: %zu acks, %zu errors of %zu\n", acks, errs, n);
        return 1;
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return 0;
}
