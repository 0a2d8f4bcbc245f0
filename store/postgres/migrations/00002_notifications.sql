-- +goose Up
-- Every message the service sends on its own initiative (not a reply to an
-- update): written in the same transaction as what caused it, turned into a
-- durable job by the dispatcher (queued_at), and marked sent in the step that
-- finishes that job. The unique index makes issuance notices, reminders and
-- annulment notices once per member, period and kind; the evaluation report
-- counts reminders from here.
CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members (id),
    kind        text NOT NULL CHECK (kind IN ('issued', 'reminder', 'annulled', 'expired', 'receipt', 'void', 'frozen')),
    period      date,
    days_before int CHECK (days_before > 0),
    ref_id      bigint,
    created_at  timestamptz NOT NULL,
    queued_at   timestamptz,
    sent_at     timestamptz,
    failed_at   timestamptz,
    error       text,
    CHECK ((kind = 'reminder') = (days_before IS NOT NULL)),
    CHECK (kind NOT IN ('issued', 'reminder', 'annulled') OR period IS NOT NULL),
    CHECK (kind NOT IN ('receipt', 'void') OR ref_id IS NOT NULL)
);
CREATE UNIQUE INDEX notifications_once ON notifications (member_id, kind, period, coalesce(days_before, 0))
    WHERE kind IN ('issued', 'reminder', 'annulled', 'expired');
CREATE UNIQUE INDEX notifications_once_ref ON notifications (member_id, kind, ref_id) WHERE kind IN ('receipt', 'void');
CREATE INDEX notifications_unqueued_idx ON notifications (id) WHERE queued_at IS NULL;
CREATE INDEX notifications_period_idx ON notifications (period, kind);

-- +goose Down
DROP TABLE notifications;
