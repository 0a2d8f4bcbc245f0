-- +goose Up
-- Vouchers by month. Issuing a month writes a million rows at once, and
-- annulling it rewrites them; in one growing table each issued row paid for
-- two index entries (the surrogate key and the one-per-member-and-month
-- uniqueness), a third for the family index and a hash join for the owner
-- check: six to seven times a plain insert. Now:
--
-- * A voucher's id is derived from its month and member (voucher_id below), so
--   the primary key is also the one-voucher-per-member-and-month rule, and a
--   family's vouchers are found from its members (members_family_idx) and the
--   issued months: no second or third index.
-- * The table is partitioned by id range, one partition per month. Issuance
--   fills a new month's partition from members while it is still a plain
--   table, then attaches it: the key is built by one sort instead of a
--   million inserts (issue_voucher_month).
-- * The family is not stored twice: it is the member's.
-- * The state rules are one CASE, evaluated once per row instead of five IN lists.
-- * No row trigger fires on UPDATE. For any AFTER UPDATE row trigger
--   PostgreSQL fetches every updated row once more, and for any BEFORE one it
--   locks it first; a foreign key brings such triggers to both of its tables.
--   That was a sixth of an annulment (a third with BEFORE triggers). So the
--   references a foreign key would guard are guarded by the checks below, each
--   where a row can go wrong: a voucher's owner when it is written, a ledger
--   row's voucher when it is written, and what never changes by a statement
--   trigger.
--
-- The rules are the same: one voucher per member and month, an owner that
-- exists, a month that was opened, value only while activated, no ledger row
-- without its voucher, and a voucher's id, member, month and amount fixed.

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
    -- One caller opens months at a time (the lock conflicts with itself); a
    -- second one of the same month then finds it. A caller that also writes
    -- periods takes this lock before it does (see IssueVouchers), or an
    -- annulment marking its month could deadlock with it.
    LOCK TABLE periods IN SHARE ROW EXCLUSIVE MODE;
    IF to_regclass(part) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE vouchers INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 45)', part);
    -- The month of every row, for good (cheap: one date comparison).
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (period = %L)', part, part || '_month', p);
    -- Lets the attach skip its scan for rows outside the range.
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (id >= %s AND id < %s)',
        part, part || '_range', voucher_id(p, 0), voucher_id((p + interval '1 month')::date, 0));
    -- Statement triggers are the partitioned table's own: a statement that
    -- names the partition itself needs them here too.
    EXECUTE format('CREATE TRIGGER vouchers_fixed AFTER UPDATE OF id, member_id, period, amount ON %I
        FOR EACH STATEMENT EXECUTE FUNCTION vouchers_fixed()', part);
    EXECUTE format('CREATE TRIGGER vouchers_never_truncated BEFORE TRUNCATE ON %I
        FOR EACH STATEMENT EXECUTE FUNCTION never_deleted()', part);
    RETURN part;
END;
$$;
-- +goose StatementEnd
-- attach_voucher_month checks the rows of a partition open_voucher_month
-- returned and something else filled — the month is open, every member exists
-- — and makes it part of vouchers, which builds its key in one sort. The members are checked by a
-- merge join over the key order both sides are already in (reading the
-- members' key alone once the visibility map is set): a hash of a million
-- members, or a million index probes, cost twice as much.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION attach_voucher_month(p date) RETURNS void LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_nestloop = off AS $$
DECLARE
    part text := 'vouchers_' || to_char(p, 'YYYY_MM');
    orphans bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM periods WHERE period = p) THEN
        RAISE EXCEPTION 'vouchers for %, a month that was not opened', p USING ERRCODE = 'foreign_key_violation';
    END IF;
    EXECUTE format('SELECT count(*) FROM %I v WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = v.member_id)', part)
        INTO orphans;
    IF orphans > 0 THEN
        RAISE EXCEPTION '% vouchers for unknown members', orphans USING ERRCODE = 'foreign_key_violation';
    END IF;
    EXECUTE format('ALTER TABLE vouchers ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
        part, voucher_id(p, 0), voucher_id((p + interval '1 month')::date, 0));
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_range');
END;
$$;
-- +goose StatementEnd

-- issue_voucher_month writes one voucher per member eligible on eligible_on
-- (id from month and member) and returns how many it wrote. A month's first
-- issuance opens the month's partition, fills it and attaches it: every row
-- comes from members in the same statement, into a table no other session can
-- see until this transaction commits, so the owners need no second look. A
-- later one (members who became eligible since) inserts only the missing
-- vouchers, through the parent, each owner checked as it is written.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION issue_voucher_month(p date, amount bigint, issued_at timestamptz,
        expires_at timestamptz, eligible_on date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    part text := open_voucher_month(p);
    eligible constant text := '(id, member_id, period, amount, issued_at, expires_at)
        SELECT voucher_id($1, m.id), m.id, $1, $2, $3, $4 FROM members m
        WHERE m.eligible_from <= $5 AND (m.eligible_until IS NULL OR m.eligible_until >= $5)';
    n bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM periods WHERE period = p) THEN
        RAISE EXCEPTION 'vouchers for %, a month that was not opened', p USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF part IS NULL THEN
        EXECUTE 'INSERT INTO vouchers ' || eligible || '
            AND NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.id = voucher_id($1, m.id))'
            USING p, amount, issued_at, expires_at, eligible_on;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
    END IF;
    EXECUTE format('INSERT INTO %I ', part) || eligible USING p, amount, issued_at, expires_at, eligible_on;
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('ALTER TABLE vouchers ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
        part, voucher_id(p, 0), voucher_id((p + interval '1 month')::date, 0));
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_range');
    RETURN n;
END;
$$;
-- +goose StatementEnd

-- A voucher written into a month already attached (a member who became
-- eligible since) has its owner checked as it is written. Members are never
-- deleted, so the check holds from then on.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION vouchers_check_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM members WHERE id = NEW.member_id) THEN
        RAISE EXCEPTION 'voucher for unknown member %', NEW.member_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION vouchers_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a voucher''s id, member, period and amount never change'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- +goose StatementEnd
-- A ledger row's voucher exists, and an activation was made by a member of
-- the voucher's family: checked for each statement's rows in one join, as
-- they are written. The ledger is append-only and vouchers are never deleted,
-- so both hold from then on.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_check_vouchers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    SELECT l.voucher_id INTO bad FROM new_entries l
        WHERE NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.id = l.voucher_id) LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger row for unknown voucher %', bad USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT v.id INTO bad FROM new_entries l
        JOIN vouchers v ON v.id = l.voucher_id
        JOIN members o ON o.id = v.member_id
        WHERE l.kind = 'activation'
        AND NOT EXISTS (SELECT 1 FROM members a WHERE a.id = v.activated_by AND a.family_id = o.family_id) LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'voucher % activated by a member outside its family', bad USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
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
    orphans bigint;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'vouchers'::regclass) = 'p' THEN
        RETURN;
    END IF;
    ALTER TABLE ledger DROP CONSTRAINT ledger_voucher_id_fkey;
    ALTER TABLE vouchers RENAME TO vouchers_v6;
    ALTER TABLE vouchers_v6 RENAME CONSTRAINT vouchers_pkey TO vouchers_v6_pkey;

    CREATE TABLE vouchers (
        id           bigint NOT NULL,
        member_id    bigint NOT NULL,
        period       date NOT NULL,
        amount       bigint NOT NULL,
        balance      bigint NOT NULL DEFAULT 0,
        state        text NOT NULL DEFAULT 'issued',
        issued_at    timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        activated_at timestamptz,
        activated_by bigint,
        closed_at    timestamptz,
        -- One voucher per member and month.
        PRIMARY KEY (id),
        CONSTRAINT vouchers_id_check CHECK (member_id BETWEEN 1 AND 9999999999 AND id = voucher_id(period, member_id)),
        CONSTRAINT vouchers_amount_check CHECK (amount > 0 AND balance >= 0 AND balance <= amount),
        -- Value exists only while a voucher is activated (or spent down to zero);
        -- activated_at and closed_at say which way it went.
        CONSTRAINT vouchers_state_check CHECK (CASE state
            WHEN 'issued'    THEN balance = 0 AND activated_at IS NULL     AND activated_by IS NULL     AND closed_at IS NULL
            WHEN 'activated' THEN                 activated_at IS NOT NULL AND activated_by IS NOT NULL AND closed_at IS NULL
            WHEN 'spent'     THEN balance = 0 AND activated_at IS NOT NULL AND activated_by IS NOT NULL AND closed_at IS NOT NULL
            WHEN 'annulled'  THEN balance = 0 AND activated_at IS NULL     AND activated_by IS NULL     AND closed_at IS NOT NULL
            WHEN 'expired'   THEN balance = 0 AND activated_at IS NOT NULL AND activated_by IS NOT NULL AND closed_at IS NOT NULL
            ELSE false END)
    ) PARTITION BY RANGE (id);
    CREATE TRIGGER vouchers_owner_exists AFTER INSERT ON vouchers
        FOR EACH ROW EXECUTE FUNCTION vouchers_check_owner();
    CREATE TRIGGER vouchers_never_deleted BEFORE DELETE ON vouchers
        FOR EACH ROW EXECUTE FUNCTION never_deleted();
    CREATE TRIGGER vouchers_never_truncated BEFORE TRUNCATE ON vouchers
        FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();
    CREATE TRIGGER vouchers_fixed AFTER UPDATE OF id, member_id, period, amount ON vouchers
        FOR EACH STATEMENT EXECUTE FUNCTION vouchers_fixed();

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
    SELECT count(*) INTO orphans FROM ledger l WHERE NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.id = l.voucher_id);
    IF orphans > 0 THEN
        RAISE EXCEPTION '% ledger rows lost their voucher', orphans;
    END IF;
    CREATE TRIGGER ledger_vouchers_exist AFTER INSERT ON ledger
        REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_vouchers();
    DROP TABLE vouchers_v6;
    DROP FUNCTION vouchers_check_activated_by(), vouchers_owner_fixed();
END;
$migrate$;
-- +goose StatementEnd

-- +goose Down
SELECT 'down from 00007 would renumber every voucher and the ledger back; restore a backup instead'::int;
