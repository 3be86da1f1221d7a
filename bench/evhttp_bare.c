/*
 * evhttp_bare -- a bare libevent evhttp server, one thread: every request is
 * answered 200 with an empty body.  Same library and the same server settings
 * luagate's ingest uses (src/http.c), and nothing else, so the gap between
 * this and luagate is routing + queue + durability, and the gap between this
 * and bench/floor.c is the HTTP library.
 *
 * usage: evhttp_bare PORT   (listens on 127.0.0.1:PORT until SIGTERM/SIGINT)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/buffer.h>

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    /* luagate reads the body; do the same so the comparison is fair */
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    evbuffer_pullup(in, -1);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *base)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
    if (argc != 2 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: evhttp_bare PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (!http)
        return 1;
    evhttp_set_max_body_size(http, 1048576);
    evhttp_set_max_headers_size(http, 64 * 1024);
    evhttp_set_timeout(http, 30);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
    evhttp_set_gencb(http, on_request, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) < 0) {
        fprintf(stderr, "evhttp_bare: cannot listen on 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    event_base_dispatch(base);
    event_free(term);
    event_free(intr);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
