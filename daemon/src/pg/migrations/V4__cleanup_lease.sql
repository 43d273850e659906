-- The cleanup queue as a queue any daemon may take from, as the verification outbox (V2).
ALTER TABLE cleanup ADD COLUMN leased_until timestamptz, ADD COLUMN leased_by text;
CREATE INDEX cleanup_by_queued ON cleanup (queued_at);
