-- sql/0.4.0/01-from-0.3.0-key.sql: part of restmon 0.4.0's scripts
-- (Makefile), upgrade from 0.3.0 only: the primary key (store_id,
-- observed_at) gives way to restmon.observation_key, built next
-- (01-observation-key.sql) from the polls stored.
ALTER TABLE restmon.observation DROP CONSTRAINT observation_pkey;
