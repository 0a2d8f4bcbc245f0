-- +goose Up
-- The wallet core: the АСП registry, consents, Telegram links, vouchers and their
-- append-only ledger, merchants and the СЗПТ catalogue. Rules that protect money
-- are CHECKs and unique constraints here, not conventions in code.

CREATE TABLE families (
    id         text PRIMARY KEY,
    city       text NOT NULL,
    frozen_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE members (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family_id      text NOT NULL REFERENCES families (id),
    iin_hmac       bytea NOT NULL UNIQUE CHECK (length(iin_hmac) = 32),
    iin_last4      text NOT NULL CHECK (iin_last4 ~ '^[0-9]{4}$'),
    birth_date     date NOT NULL,
    female         boolean NOT NULL,
    full_name      text NOT NULL CHECK (full_name <> ''),
    phone          text CHECK (phone ~ '^\+7[0-9]{10}$'),
    role           text NOT NULL CHECK (role IN ('applicant', 'member')),
    eligible_from  date NOT NULL,
    eligible_until date CHECK (eligible_until >= eligible_from),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_family_idx ON members (family_id);
CREATE INDEX members_phone_idx ON members (phone);
-- Exactly one applicant per family is checked on import; at most one is enforced here.
CREATE UNIQUE INDEX members_one_applicant ON members (family_id) WHERE role = 'applicant';

CREATE TABLE consents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id  bigint NOT NULL REFERENCES members (id),
    version    text NOT NULL,
    given_at   timestamptz NOT NULL,
    revoked_at timestamptz CHECK (revoked_at >= given_at)
);
-- At most one standing consent per member.
CREATE UNIQUE INDEX consents_active ON consents (member_id) WHERE revoked_at IS NULL;

CREATE TABLE telegram_links (
    telegram_user_id bigint PRIMARY KEY,
    member_id        bigint NOT NULL UNIQUE REFERENCES members (id),
    chat_id          bigint NOT NULL,
    lang             text NOT NULL CHECK (lang IN ('kk', 'ru')),
    linked_at        timestamptz NOT NULL,
    blocked_at       timestamptz
);

CREATE TABLE periods (
    period      date PRIMARY KEY CHECK (extract(day FROM period) = 1),
    issued_at   timestamptz,
    annulled_at timestamptz
);

-- Vouchers are written a million at a time, so referential integrity is checked
-- per statement, not per row: the trigger below joins the inserted rows with
-- members and periods once (one hash join instead of a million index look-ups,
-- which cost ~10 µs each here), and members, families and periods are never
-- deleted (see the triggers at the end). The columns that tie a voucher to its
-- owner never change after insert.
CREATE TABLE vouchers (
    id           bigint GENERATED ALWAYS AS IDENTITY (CACHE 1000) PRIMARY KEY,
    member_id    bigint NOT NULL,
    family_id    text NOT NULL,
    period       date NOT NULL CHECK (extract(day FROM period) = 1),
    amount       bigint NOT NULL CHECK (amount > 0),
    balance      bigint NOT NULL DEFAULT 0 CHECK (balance >= 0 AND balance <= amount),
    state        text NOT NULL DEFAULT 'issued'
                 CHECK (state IN ('issued', 'activated', 'spent', 'annulled', 'expired')),
    issued_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    activated_at timestamptz,
    activated_by bigint, -- checked by vouchers_activated_by_exists: an FK trigger would fire on every insert
    closed_at    timestamptz,
    -- One voucher per member and period; also the index by which a period is
    -- annulled and expired.
    UNIQUE (period, member_id),
    -- Value exists only while a voucher is activated (or spent down to zero).
    CHECK (state IN ('activated', 'spent') OR balance = 0),
    CHECK (state <> 'spent' OR balance = 0),
    CHECK ((state IN ('activated', 'spent', 'expired')) = (activated_at IS NOT NULL)),
    CHECK ((state IN ('annulled', 'expired', 'spent')) = (closed_at IS NOT NULL))
) WITH (fillfactor = 50); -- room on every page for the in-place (HOT) update of activation or annulment: no index holds state
CREATE INDEX vouchers_family_idx ON vouchers (family_id);

-- +goose StatementBegin
CREATE FUNCTION vouchers_check_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_vouchers v
               LEFT JOIN members m ON m.id = v.member_id AND m.family_id = v.family_id
               LEFT JOIN periods p ON p.period = v.period
               WHERE m.id IS NULL OR p.period IS NULL) THEN
        RAISE EXCEPTION 'voucher for an unknown member, family or period'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE FUNCTION vouchers_check_activated_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM members WHERE id = NEW.activated_by AND family_id = NEW.family_id) THEN
        RAISE EXCEPTION 'voucher % activated by a member outside its family', NEW.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE FUNCTION vouchers_owner_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a voucher''s member, family, period and amount never change'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER vouchers_owner_exists AFTER INSERT ON vouchers
    REFERENCING NEW TABLE AS new_vouchers FOR EACH STATEMENT EXECUTE FUNCTION vouchers_check_owner();
CREATE TRIGGER vouchers_activated_by_exists BEFORE UPDATE OF activated_by ON vouchers
    FOR EACH ROW WHEN (NEW.activated_by IS NOT NULL) EXECUTE FUNCTION vouchers_check_activated_by();
CREATE TRIGGER vouchers_owner_fixed BEFORE UPDATE OF member_id, family_id, period, amount ON vouchers
    FOR EACH ROW WHEN ((OLD.member_id, OLD.family_id, OLD.period, OLD.amount)
        IS DISTINCT FROM (NEW.member_id, NEW.family_id, NEW.period, NEW.amount))
    EXECUTE FUNCTION vouchers_owner_fixed();

CREATE TABLE ledger (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    voucher_id    bigint NOT NULL REFERENCES vouchers (id),
    kind          text NOT NULL CHECK (kind IN ('activation', 'redemption', 'void', 'expiry')),
    amount        bigint NOT NULL CHECK (amount <> 0),
    redemption_id bigint,
    created_at    timestamptz NOT NULL,
    CHECK ((kind IN ('activation', 'void')) = (amount > 0)),
    CHECK ((kind IN ('redemption', 'void')) = (redemption_id IS NOT NULL))
);
CREATE INDEX ledger_voucher_idx ON ledger (voucher_id);
CREATE INDEX ledger_redemption_idx ON ledger (redemption_id) WHERE redemption_id IS NOT NULL;
-- A voucher is credited once.
CREATE UNIQUE INDEX ledger_one_activation ON ledger (voucher_id) WHERE kind = 'activation';
CREATE UNIQUE INDEX ledger_one_expiry ON ledger (voucher_id) WHERE kind = 'expiry';

-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_no_update BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

CREATE TABLE merchants (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (name <> ''),
    city         text NOT NULL,
    address      text NOT NULL DEFAULT '',
    lat          double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon          double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    discount_bp  integer NOT NULL CHECK (discount_bp BETWEEN 0 AND 10000),
    api_key_hash bytea NOT NULL UNIQUE CHECK (length(api_key_hash) = 32),
    created_at   timestamptz NOT NULL,
    disabled_at  timestamptz
);

CREATE TABLE products (
    code       text PRIMARY KEY,
    name_kk    text NOT NULL CHECK (name_kk <> ''),
    name_ru    text NOT NULL CHECK (name_ru <> ''),
    unit       text NOT NULL CHECK (unit IN ('kg', 'l', 'pcs')),
    active     boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One-time QR tokens. The signature proves we issued a token; this table makes
-- it single-use and lets a newer token replace an older one.
CREATE TABLE qr_tokens (
    token_id    bytea PRIMARY KEY CHECK (length(token_id) = 12),
    member_id   bigint NOT NULL REFERENCES members (id),
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL CHECK (expires_at > issued_at),
    replaced_at timestamptz,
    used_at     timestamptz
);
CREATE UNIQUE INDEX qr_tokens_one_live ON qr_tokens (member_id) WHERE replaced_at IS NULL AND used_at IS NULL;

-- A purchase paid (in part) by vouchers. One per token; one per merchant
-- idempotency key, whose first answer is kept to be returned again.
CREATE TABLE redemptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id     bigint NOT NULL REFERENCES merchants (id),
    family_id       text NOT NULL REFERENCES families (id),
    member_id       bigint NOT NULL REFERENCES members (id),
    token_id        bytea NOT NULL UNIQUE REFERENCES qr_tokens (token_id),
    idempotency_key text NOT NULL CHECK (idempotency_key <> ''),
    request_hash    bytea NOT NULL,
    receipt_no      text NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('spend', 'discount')),
    gross           bigint NOT NULL CHECK (gross >= 0),
    discount        bigint NOT NULL CHECK (discount >= 0 AND discount <= gross),
    covered         bigint NOT NULL CHECK (covered >= 0),
    to_pay          bigint NOT NULL CHECK (to_pay >= 0),
    response        jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    voided_at       timestamptz,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX redemptions_family_idx ON redemptions (family_id, created_at DESC);
ALTER TABLE ledger ADD CONSTRAINT ledger_redemption_fk FOREIGN KEY (redemption_id) REFERENCES redemptions (id);

CREATE TABLE redemption_lines (
    redemption_id   bigint NOT NULL REFERENCES redemptions (id),
    line_no         int NOT NULL CHECK (line_no > 0),
    product_code    text NOT NULL REFERENCES products (code),
    qty_milli       bigint NOT NULL CHECK (qty_milli > 0),
    unit_price_tiyn bigint NOT NULL CHECK (unit_price_tiyn >= 0),
    gross           bigint NOT NULL CHECK (gross >= 0),
    discount        bigint NOT NULL CHECK (discount >= 0 AND discount <= gross),
    PRIMARY KEY (redemption_id, line_no)
);

-- "Not me": a recipient reports a purchase they did not make; the wallet is
-- frozen until an operator lifts it. Rows stay for the operator's record.
CREATE TABLE family_freezes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family_id     text NOT NULL REFERENCES families (id),
    member_id     bigint REFERENCES members (id),
    redemption_id bigint REFERENCES redemptions (id),
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL,
    lifted_at     timestamptz
);

-- The registry is history: members, families and periods are never deleted
-- (a person leaving the programme gets eligible_until), which is what lets
-- vouchers check their owner per statement above.
-- +goose StatementBegin
CREATE FUNCTION never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER members_never_deleted BEFORE DELETE OR TRUNCATE ON members FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();
CREATE TRIGGER families_never_deleted BEFORE DELETE OR TRUNCATE ON families FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();
CREATE TRIGGER periods_never_deleted BEFORE DELETE OR TRUNCATE ON periods FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();

-- +goose Down
DROP TABLE family_freezes, redemption_lines, redemptions, qr_tokens, products, merchants, ledger CASCADE, vouchers, periods, telegram_links, consents, members, families;
DROP FUNCTION ledger_append_only(), vouchers_check_owner(), vouchers_check_activated_by(), vouchers_owner_fixed(), never_deleted();
