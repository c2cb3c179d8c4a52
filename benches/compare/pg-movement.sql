-- pgbench script for benches/compare/postgres.sh: one stock movement, booked
-- the way Quarry books a one-line receipt, in one transaction: a ledger row
-- and the level it changes. SKUs are P-0000001 … P-:skus, all at LOAD.
\set n random(1, :skus)
BEGIN;
INSERT INTO movements (kind, sku, location, quantity, reference)
  VALUES ('receive', 'P-' || lpad(CAST(:n AS text), 7, '0'), 'LOAD', 1, 'pgbench');
UPDATE levels SET on_hand = on_hand + 1
  WHERE sku = 'P-' || lpad(CAST(:n AS text), 7, '0') AND location = 'LOAD';
END;
