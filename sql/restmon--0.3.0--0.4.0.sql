/* sql/restmon--0.3.0--0.4.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION restmon UPDATE TO '0.4.0'" to load this file. \quit

-- 0.4.0 adds objects only; each block below is repeated in
-- restmon--0.4.0.sql, and test/sql/upgrade.sql checks that both give the
-- same extension.
