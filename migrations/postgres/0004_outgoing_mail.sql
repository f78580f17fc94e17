-- E-mail to send, written in the same transaction as the event that calls for it and
-- sent after the commit; a failed send stays here and is tried again later.
CREATE TABLE outgoing_mail (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- 0 until the SMTP server has accepted the message.
    sent BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outgoing_mail_unsent ON outgoing_mail (id) WHERE sent = 0;
