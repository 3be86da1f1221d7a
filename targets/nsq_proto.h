/* nsq_proto.h -- nsqd TCP protocol V2 framing, without any I/O.
 *
 * Builders append client commands to a growable buffer; the parser cuts
 * server frames ([size][type][data], size = 4 + len(data), big-endian) off
 * the front of whatever bytes have arrived so far.  Used by targets/nsq.c,
 * the unit tests and the fuzzer. */
#ifndef LUAGATE_NSQ_PROTO_H
#define LUAGATE_NSQ_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define NSQP_MAGIC "  V2"
#define NSQP_MAX_MSG (1024 * 1024)      /* nsqd --max-msg-size default */
#define NSQP_MAX_BODY (5 * 1024 * 1024) /* nsqd --max-body-size default (MPUB) */
#define NSQP_MAX_TOPIC 64

enum nsqp_frame_type { NSQP_FRAME_RESPONSE = 0, NSQP_FRAME_ERROR = 1, NSQP_FRAME_MESSAGE = 2 };

/* What a frame means to a client. */
enum nsqp_kind {
    NSQP_OK,         /* response "OK" */
    NSQP_HEARTBEAT,  /* response "_heartbeat_": answer NOP */
    NSQP_CLOSE_WAIT, /* response "CLOSE_WAIT" (reply to CLS) */
    NSQP_RESPONSE,   /* any other response, e.g. IDENTIFY's JSON */
    NSQP_ERROR,      /* error frame "E_XXX description" */
    NSQP_MESSAGE,    /* message frame (consumers only) */
    NSQP_UNKNOWN,    /* a frame type the protocol does not define */
};

struct nsqp_frame {
    int32_t type;     /* enum nsqp_frame_type, or anything the server sent */
    const char *data; /* points into the parsed buffer, not NUL-terminated */
    size_t len;
};

/* A message frame's body: [8-byte ns timestamp][2-byte attempts][16-byte id][body]. */
struct nsqp_message {
    int64_t timestamp;
    uint16_t attempts;
    char id[17];
    const char *body;
    size_t len;
};

struct nsqp_buf {
    char *data;
    size_t len, cap;
};

/* Parse one frame from buf[0..len).  Returns the bytes it takes (> 0) and
 * fills *f, 0 when more bytes are needed, -1 (reason in err) when the size
 * field is below 4 or the frame would exceed max bytes: the stream cannot be
 * resynchronised, the caller must close the connection. */
long nsqp_parse(const char *buf, size_t len, size_t max, struct nsqp_frame *f, char *err,
                size_t errlen);
enum nsqp_kind nsqp_kind(const struct nsqp_frame *f);
/* Copy the code of an error frame ("E_PUB_FAILED") into code; returns code. */
const char *nsqp_error_code(const struct nsqp_frame *f, char *code, size_t codelen);
/* 0, or -1 when a message frame is shorter than its fixed header. */
int nsqp_message(const struct nsqp_frame *f, struct nsqp_message *m);

/* nsqd's rule: ^[.a-zA-Z0-9_-]+(#ephemeral)?$, 1..64 characters. */
int nsqp_topic_valid(const char *topic);

/* Builders: 0, or -1 when out of memory (the buffer is left as it was). */
void nsqp_buf_reset(struct nsqp_buf *b);
void nsqp_buf_free(struct nsqp_buf *b);
int nsqp_magic(struct nsqp_buf *b);
int nsqp_identify(struct nsqp_buf *b, const char *json, size_t len);
int nsqp_pub(struct nsqp_buf *b, const char *topic, const char *body, size_t len);
int nsqp_nop(struct nsqp_buf *b);
int nsqp_cls(struct nsqp_buf *b);
/* MPUB: begin with the message count, add each message, then end, which
 * fills in the body size.  *mark remembers where the body size goes. */
int nsqp_mpub_begin(struct nsqp_buf *b, const char *topic, uint32_t count, size_t *mark);
int nsqp_mpub_add(struct nsqp_buf *b, const char *body, size_t len);
void nsqp_mpub_end(struct nsqp_buf *b, size_t mark);
/* Body size of an MPUB of count messages totalling bytes. */
size_t nsqp_mpub_body_size(size_t count, size_t bytes);

#endif
