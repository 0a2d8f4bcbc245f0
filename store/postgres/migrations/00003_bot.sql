-- +goose Up
-- The recipient's conversation. A "Decline" to the consent text is an answer
-- too and is kept with the version declined; an agreement lives in consents.
CREATE TABLE consent_declines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members (id),
    version     text NOT NULL CHECK (version <> ''),
    declined_at timestamptz NOT NULL
);
CREATE INDEX consent_declines_member_idx ON consent_declines (member_id, declined_at DESC);
-- The consent screen and the activation rule read a member's latest consent.
CREATE INDEX consents_member_idx ON consents (member_id, given_at DESC);
-- A family's spendable value is read through vouchers_family_idx (a family
-- has a few dozen vouchers at most). No index on vouchers may mention state:
-- activation, purchases and annulment must stay in-place (HOT) updates.

-- +goose Down
DROP INDEX consents_member_idx;
DROP TABLE consent_declines;
