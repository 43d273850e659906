-- The card domain's persistence (see daemon/src/pg/mod.rs for what each guarantee rests on).

-- Each card whole, as the protocol's JSON, with the columns the store's rules read beside it.
CREATE TABLE cards (
    id         bigint PRIMARY KEY,
    user_id    text NOT NULL,
    status     text NOT NULL,
    version    bigint NOT NULL,
    body       jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- One active card per user: at most one card of a user is not rejected, under any concurrency.
CREATE UNIQUE INDEX cards_one_active_per_user ON cards (user_id) WHERE status <> 'rejected';
-- A user's newest card.
CREATE INDEX cards_by_user ON cards (user_id, id);

-- Card ids: increasing, never reused (a gap where a submission made no card is fine).
CREATE SEQUENCE card_ids AS bigint;

-- The audit log: gapless seqs, numbered from audit_counter.
CREATE TABLE audit (
    seq     bigint PRIMARY KEY,
    card_id bigint,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    reason  text,
    before  text,
    after   text
);
CREATE INDEX audit_by_card ON audit (card_id, seq) WHERE card_id IS NOT NULL;

-- The last audit seq handed out. Its one row is locked from numbering to commit, so audit
-- writers number in commit order and a rolled-back write leaves no gap.
CREATE TABLE audit_counter (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    last bigint NOT NULL
);
INSERT INTO audit_counter (last) VALUES (0);

-- Reused documents: 'f:' || a file's SHA-256 (lower-case hex), or 'd:' || country key || ':' ||
-- document number, per card that holds it.
CREATE TABLE duplicates (
    key     text NOT NULL,
    card_id bigint NOT NULL,
    user_id text NOT NULL,
    PRIMARY KEY (key, card_id)
);
CREATE INDEX duplicates_by_card ON duplicates (card_id);

-- Deferred work on a card for the verification provider (a re-verification, a decision push):
-- one job per card and kind, written with the change that calls for it.
CREATE TABLE outbox (
    card_id bigint NOT NULL,
    kind    smallint NOT NULL,
    job     jsonb NOT NULL,
    due     timestamptz NOT NULL,
    PRIMARY KEY (card_id, kind)
);
CREATE INDEX outbox_by_due ON outbox (due);

-- Objects of removed cards still to delete from the object store.
CREATE TABLE cleanup (
    seq       bigserial PRIMARY KEY,
    key       text NOT NULL,
    card_id   bigint NOT NULL,
    queued_at timestamptz NOT NULL
);
