-- +goose Up
-- Vouchers by month. Issuing a month writes a million rows at once; in one
-- growing table each row paid for two index entries (the surrogate key and
-- the one-per-member-and-month uniqueness), a third for the family index and a
-- hash join for the owner check: six to seven times a plain insert. Now:
--
-- * A voucher's id is derived from its month and member (voucher_id below), so
--   the primary key is also the one-voucher-per-member-and-month rule, and a
--   family's vouchers are found from its members (members_family_idx) and the
--   issued months: no second or third index.
-- * The table is partitioned by id range, one partition per month. Issuance
--   fills a new month's partition while it is still a plain table, then
--   attaches it: the key is built by one sort instead of a million inserts, and
--   the foreign keys to members and periods are checked by one join each
--   instead of a trigger.
-- * The family is not stored twice: it is the member's. So the owner check is a
--   plain foreign key.
-- * The state rules are one CASE, evaluated once per row instead of five IN lists.
-- * The update triggers run after the row is written (see below), so that an
--   annulment does not lock each row before changing it.
--
-- The rules are the same: one voucher per member and month, an owner that
-- exists, a month that was opened, value only while activated, and the ledger's
-- foreign key.

-- The key: days from 2000-01-01 to the month's first day, then ten digits of
-- member id. Integer arithmetic only, because the CHECK below runs on every row
-- written.
CREATE OR REPLACE FUNCTION voucher_id(period date, member_id bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (period - date '2000-01-01')::bigint * 10000000000 + member_id;

-- open_voucher_month makes the month's partition as a plain table, not yet
-- attached, and returns its name; NULL when the month has one already. Pages
-- are left 55 % empty so that each voucher's one change of state (activation
-- or annulment) is written in place, beside it (a HOT update: no index entry).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION open_voucher_month(p date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    part text := 'vouchers_' || to_char(p, 'YYYY_MM');
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    -- The attach's foreign keys take these locks. Taking them first, in one
    -- order, means a concurrent issuance or annulment waits instead of
    -- deadlocking with this one; a second issuance of the month then finds it.
    LOCK TABLE periods, members, ledger IN SHARE ROW EXCLUSIVE MODE;
    IF to_regclass(part) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE vouchers INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 45)', part);
    -- Lets the attach skip its scan for rows outside the range.
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (id >= %s AND id < %s)',
        part, part || '_range', voucher_id(p, 0), voucher_id((p + interval '1 month')::date, 0));
    RETURN part;
END;
$$;
-- +goose StatementEnd
-- attach_voucher_month makes the partition open_voucher_month returned part of
-- vouchers: it builds the key and checks the foreign keys, each in one pass.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION attach_voucher_month(p date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    part text := 'vouchers_' || to_char(p, 'YYYY_MM');
BEGIN
    EXECUTE format('ALTER TABLE vouchers ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
        part, voucher_id(p, 0), voucher_id((p + interval '1 month')::date, 0));
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_range');
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION vouchers_check_activated_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM members a JOIN members o ON o.family_id = a.family_id
                   WHERE a.id = NEW.activated_by AND o.id = NEW.member_id) THEN
        RAISE EXCEPTION 'voucher % activated by a member outside its family', NEW.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION vouchers_owner_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a voucher''s id, member, period and amount never change'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- +goose StatementEnd

-- Once only: running this again (as a test that undoes the version row does)
-- changes nothing.
-- +goose StatementBegin
DO $migrate$
DECLARE
    p date;
    part text;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'vouchers'::regclass) = 'p' THEN
        RETURN;
    END IF;
    ALTER TABLE ledger DROP CONSTRAINT ledger_voucher_id_fkey;
    ALTER TABLE vouchers RENAME TO vouchers_v6;
    ALTER TABLE vouchers_v6 RENAME CONSTRAINT vouchers_pkey TO vouchers_v6_pkey;

    CREATE TABLE vouchers (
        id           bigint NOT NULL,
        member_id    bigint NOT NULL REFERENCES members (id),
        -- periods.period is a month's first day (its CHECK), so this is one too.
        period       date NOT NULL REFERENCES periods (period),
        amount       bigint NOT NULL,
        balance      bigint NOT NULL DEFAULT 0,
        state        text NOT NULL DEFAULT 'issued',
        issued_at    timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        activated_at timestamptz,
        activated_by bigint, -- checked by vouchers_activated_by_exists: a foreign key would fire on every insert
        closed_at    timestamptz,
        -- One voucher per member and month.
        PRIMARY KEY (id),
        CONSTRAINT vouchers_id_check CHECK (member_id BETWEEN 1 AND 9999999999 AND id = voucher_id(period, member_id)),
        CONSTRAINT vouchers_amount_check CHECK (amount > 0 AND balance >= 0 AND balance <= amount),
        -- Value exists only while a voucher is activated (or spent down to zero);
        -- activated_at and closed_at say which way it went.
        CONSTRAINT vouchers_state_check CHECK (CASE state
            WHEN 'issued'    THEN balance = 0 AND activated_at IS NULL     AND closed_at IS NULL
            WHEN 'activated' THEN                 activated_at IS NOT NULL AND closed_at IS NULL
            WHEN 'spent'     THEN balance = 0 AND activated_at IS NOT NULL AND closed_at IS NOT NULL
            WHEN 'annulled'  THEN balance = 0 AND activated_at IS NULL     AND closed_at IS NOT NULL
            WHEN 'expired'   THEN balance = 0 AND activated_at IS NOT NULL AND closed_at IS NOT NULL
            ELSE false END)
    ) PARTITION BY RANGE (id);

    -- The vouchers written so far move to their months, renumbered; the ledger follows.
    FOR p IN SELECT DISTINCT period FROM vouchers_v6 ORDER BY 1 LOOP
        part := open_voucher_month(p);
        EXECUTE format('INSERT INTO %I (id, member_id, period, amount, balance, state, issued_at, expires_at,
                activated_at, activated_by, closed_at)
            SELECT voucher_id(period, member_id), member_id, period, amount, balance, state, issued_at, expires_at,
                activated_at, activated_by, closed_at
            FROM vouchers_v6 WHERE period = %L', part, p);
        PERFORM attach_voucher_month(p);
    END LOOP;
    ALTER TABLE ledger DISABLE TRIGGER ledger_no_update;
    UPDATE ledger l SET voucher_id = voucher_id(o.period, o.member_id) FROM vouchers_v6 o WHERE o.id = l.voucher_id;
    ALTER TABLE ledger ENABLE TRIGGER ledger_no_update;
    ALTER TABLE ledger ADD CONSTRAINT ledger_voucher_id_fkey FOREIGN KEY (voucher_id) REFERENCES vouchers (id);
    DROP TABLE vouchers_v6;
    DROP FUNCTION vouchers_check_owner();

    -- AFTER, not BEFORE: a table with any BEFORE UPDATE row trigger has every
    -- updated row locked first (one more WAL record and buffer visit per row,
    -- whatever the trigger's columns), which made annulling a month a third
    -- slower. An AFTER trigger that raises undoes the statement all the same.
    CREATE TRIGGER vouchers_activated_by_exists AFTER UPDATE OF activated_by ON vouchers
        FOR EACH ROW WHEN (NEW.activated_by IS NOT NULL) EXECUTE FUNCTION vouchers_check_activated_by();
    CREATE TRIGGER vouchers_owner_fixed AFTER UPDATE OF id, member_id, period, amount ON vouchers
        FOR EACH ROW WHEN ((OLD.id, OLD.member_id, OLD.period, OLD.amount)
            IS DISTINCT FROM (NEW.id, NEW.member_id, NEW.period, NEW.amount))
        EXECUTE FUNCTION vouchers_owner_fixed();
END;
$migrate$;
-- +goose StatementEnd
-- +goose Down
SELECT 'down from 00007 would renumber every voucher and the ledger back; restore a backup instead'::int;
