-- The durable mail queue (issues #4 and #5): every account e-mail is stored here before it is
-- sent, so a mail is never lost when the SMTP server is down. Same logical schema in
-- migrations/sqlite and migrations/postgres.
-- The node that queues a mail claims it (claimed_until) and tries to send it at once; when that
-- fails, next_attempt_at moves forward with backoff and any node's worker claims it again (a
-- conditional UPDATE, so two nodes never send the same row at once). A row is deleted as soon as
-- the SMTP server accepted the message: it cannot be sent again after a restart. id is also the
-- Message-ID's local part, so a receiver can recognise a duplicate.
CREATE TABLE mail_queue (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    last_error TEXT
);
CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at);
