-- +goose Up
-- What a receipt and a void answer say about the family's wallet, as of the
-- moment: spendable value right after the purchase, and right after its void.
-- Kept beside the purchase because later purchases change the live figure.
ALTER TABLE redemptions
    ADD COLUMN remaining bigint NOT NULL DEFAULT 0 CHECK (remaining >= 0),
    ADD COLUMN void_remaining bigint CHECK (void_remaining >= 0),
    ADD CONSTRAINT redemptions_void_remaining CHECK ((voided_at IS NULL) = (void_remaining IS NULL));

-- +goose Down
ALTER TABLE redemptions DROP CONSTRAINT redemptions_void_remaining, DROP COLUMN void_remaining, DROP COLUMN remaining;
