-- +goose Up
-- Jobs: when each notification may go, and the schedule's once-per-period steps.

-- A notification's slot: reminder, issuance and annulment waves are planned
-- under the shared send limiter and outside quiet hours, and the dispatcher
-- turns a row into a job only once its slot has come. NULL: at once (receipts,
-- voids, freezes).
ALTER TABLE notifications ADD COLUMN not_before timestamptz;
CREATE INDEX notifications_due_idx ON notifications (not_before) WHERE queued_at IS NULL AND not_before IS NOT NULL;
CREATE INDEX notifications_now_idx ON notifications (id) WHERE queued_at IS NULL AND not_before IS NULL;

-- The schedule's steps, once per period: issue, each reminder wave
-- (remind-7, remind-3, remind-1), annul, expire. A step is marked done in the
-- same transaction that writes its notifications, so it happens once however
-- many processes tick. The plan of its wave is kept for operators: how many,
-- when it was due, when it starts and ends, whether it had to start early or
-- cannot finish in time.
CREATE TABLE job_steps (
    period         date NOT NULL,
    step           text NOT NULL CHECK (step ~ '^(issue|annul|expire|remind-[0-9]+)$'),
    recipients     int NOT NULL DEFAULT 0 CHECK (recipients >= 0),
    nominal_start  timestamptz,
    planned_start  timestamptz,
    planned_finish timestamptz,
    early          boolean NOT NULL DEFAULT false,
    late           boolean NOT NULL DEFAULT false,
    planned_at     timestamptz,
    done_at        timestamptz,
    note           text,
    PRIMARY KEY (period, step)
);

-- +goose Down
DROP TABLE job_steps;
DROP INDEX notifications_now_idx;
DROP INDEX notifications_due_idx;
ALTER TABLE notifications DROP COLUMN not_before;
