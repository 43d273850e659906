-- The verification outbox as a queue any daemon may take from: a taken job is leased to its
-- taker until leased_until; past that, another daemon takes it (its taker died).
ALTER TABLE outbox ADD COLUMN leased_until timestamptz, ADD COLUMN leased_by text;
