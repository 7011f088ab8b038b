--
-- Pollers of different stores at once (doc/operations.md, "Several pollers
-- at once"; semantics §1: polls accumulate, the first of a store and
-- instant wins).  A batch that fits one chunk locks its stores' rows of
-- restmon.store, in store order, instead of the whole table: a batch of
-- other stores does not wait for it, a batch of the same store waits and
-- then sees what it stored, two batches naming the same stores in opposite
-- orders do not deadlock, and pruning does not run while a batch is open.
-- Sessions c1..c4 are dblink connections; this session watches.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

-- polls of each store in ids (in that order) at hours h0 .. h1 of
-- 2023-03-01 UTC, active when the hour is even
CREATE FUNCTION pg_temp.polls(ids text[], h0 int, h1 int) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT jsonb_agg(jsonb_build_object('store_id', i.id,
		'status', CASE WHEN h % 2 = 0 THEN 'active' ELSE 'inactive' END,
		'timestamp_utc', to_char(timestamptz '2023-03-01 00:00 UTC' + h * interval '1 hour',
								 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) ORDER BY i.k, h)
	FROM unnest(ids) WITH ORDINALITY i(id, k), generate_series(h0, h1) h
$$;
-- the call session c records polls with
CREATE FUNCTION pg_temp.rec(ids text[], h0 int, h1 int) RETURNS text
LANGUAGE sql AS $$
	SELECT format('SELECT received, loaded, duplicate, rejected FROM restmon_record_polls(%L)',
				  pg_temp.polls(ids, h0, h1))
$$;
-- the stores k0 .. k19, and the same in the opposite order
SELECT array_agg('k' || lpad(s::text, 2, '0') ORDER BY s) AS up,
	   array_agg('k' || lpad(s::text, 2, '0') ORDER BY s DESC) AS down
FROM generate_series(0, 19) s \gset
-- a poll of store seed on 2023-03-05: restmon.poll_bound is then
-- 2023-03-06, and no batch below raises it (the first batch past a bound
-- holds that one row until it commits: doc/operations.md)
INSERT INTO restmon.observation VALUES ('seed', '2023-03-05 00:00+00', true);
\unset ON_ERROR_STOP

SELECT plan(17);
SELECT is((SELECT latest_at FROM restmon.poll_bound), '2023-03-06 00:00+00'::timestamptz,
	'the poll bound is the day after the latest poll');

SELECT count(*) FROM (
	SELECT dblink_connect('c' || j, format('host=%s port=%s dbname=%s',
		current_setting('unix_socket_directories'), current_setting('port'),
		current_database()))
	FROM generate_series(1, 4) j) c;
SELECT set_config('restmon_test.c2_pid', pid::text, false)
FROM dblink('c2', 'SELECT pg_backend_pid()') AS t(pid int);

-- c1 records store a's hours 0..9 and keeps its transaction open
SELECT dblink_exec('c1', 'BEGIN');
SELECT is((SELECT loaded FROM dblink('c1', pg_temp.rec('{a}', 0, 9))
		   AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint)),
	10::bigint, 'c1 records 10 polls of store a, not committed yet');

-- c2, store b meanwhile: no wait (a lock wait would end in 55P03)
SELECT dblink_exec('c2', 'SET lock_timeout = ''2s''');
SELECT is((SELECT row(received, loaded, duplicate, rejected)::text
		   FROM dblink('c2', pg_temp.rec('{b}', 0, 9))
		   AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint)),
	'(10,10,0,0)', 'c2 records store b while c1 holds store a');

-- c2, stores b and a: waits for store a's lock (55P03 after lock_timeout)
SELECT dblink_exec('c2', 'SET lock_timeout = ''200ms''');
SELECT is(pg_temp.error_of(format('SELECT * FROM dblink(%L, %L) AS t(a bigint, b bigint, c bigint, d bigint)',
			'c2', pg_temp.rec('{b,a}', 5, 14))) LIKE '55P03:%',
	true, 'a batch naming store a waits for c1''s lock on it');
SELECT dblink_exec('c2', 'RESET lock_timeout');

-- again, without a timeout: c2 waits on a lock until c1 commits, then
-- finds a's hours 5..9 stored (duplicates) and inserts 10..14
SELECT dblink_send_query('c2', pg_temp.rec('{b,a}', 5, 14));
DO $$
BEGIN
	FOR i IN 1 .. 500 LOOP
		EXIT WHEN EXISTS (SELECT FROM pg_stat_activity a
			WHERE a.pid = current_setting('restmon_test.c2_pid')::int
			  AND a.wait_event_type = 'Lock');
		PERFORM pg_sleep(0.01);
	END LOOP;
END $$;
SELECT is((SELECT wait_event_type FROM pg_stat_activity
		   WHERE pid = current_setting('restmon_test.c2_pid')::int),
	'Lock', 'c2 waits on a lock');
SELECT is((SELECT count(*) FROM restmon.observation WHERE store_id = 'a'), 0::bigint,
	'nothing of store a is seen before c1 commits');
SELECT dblink_exec('c1', 'COMMIT');
-- b: hours 5..9 stored by c2 before (duplicates), 10..14 new; a: 5..9
-- stored by c1 (duplicates), 10..14 new: 20 received, 10 loaded, 10 dup.
SELECT is((SELECT row(received, loaded, duplicate, rejected)::text
		   FROM dblink_get_result('c2')
		   AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint)),
	'(20,10,10,0)', 'then c2 sees c1''s polls of store a as stored');
SELECT * FROM dblink_get_result('c2')
	AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint);
SELECT is((SELECT string_agg(store_id || ' ' || n, ', ' ORDER BY store_id)
		   FROM (SELECT store_id, count(*) n FROM restmon.observation
				 WHERE store_id IN ('a', 'b') GROUP BY 1) x),
	'a 15, b 15', 'stores a and b each have hours 0..14, once');

-- opposite orders: c1 holds k10; c3 names k00..k19, c4 k19..k00.  Both
-- lock in store order, so c3 holds k00..k09 and waits for k10, and c4
-- waits for k00: no deadlock, and both finish once c1 commits.
SELECT dblink_exec('c1', 'BEGIN');
SELECT loaded FROM dblink('c1', pg_temp.rec('{k10}', 0, 0))
	AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint);
SELECT dblink_send_query('c3', pg_temp.rec(:'up', 0, 9));
SELECT pg_sleep(0.2);
SELECT dblink_send_query('c4', pg_temp.rec(:'down', 0, 9));
SELECT pg_sleep(0.2);
SELECT dblink_exec('c1', 'COMMIT');
CREATE TEMP TABLE opposite AS
SELECT 'c3' AS c, * FROM dblink_get_result('c3')
	AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint)
UNION ALL
SELECT 'c4', * FROM dblink_get_result('c4')
	AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint);
SELECT * FROM dblink_get_result('c3')
	AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint);
SELECT * FROM dblink_get_result('c4')
	AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint);
-- 200 polls each; 20 stores x 10 hours = 200 distinct, k10's hour 0 by
-- c1: 199 loaded by c3 and c4 together, 400 - 199 = 201 duplicates
SELECT is((SELECT row(sum(received), sum(loaded), sum(duplicate), sum(rejected))::text FROM opposite),
	'(400,199,201,0)', 'opposite orders: both batches complete, nothing lost or doubled');
SELECT is((SELECT count(*) FROM restmon.observation WHERE store_id LIKE 'k%'), 200::bigint,
	'k00..k19 hold 10 polls each');

-- no prune while a batch is open: store old's poll of 2023-01-01 is older
-- than the edge (the latest poll, store seed's 2023-03-05, minus 35 days)
INSERT INTO restmon.observation VALUES ('old', '2023-01-01 00:00+00', true);
SELECT dblink_exec('c1', 'BEGIN');
SELECT loaded FROM dblink('c1', pg_temp.rec('{b}', 20, 20))
	AS t(received bigint, loaded bigint, duplicate bigint, rejected bigint);
SELECT is(restmon_prune_observations(), 0::bigint, 'pruning deletes nothing while a batch is open');
SELECT dblink_exec('c1', 'COMMIT');
SELECT is(restmon_prune_observations(), 1::bigint, 'and the old poll once it committed');
SELECT is((SELECT count(*) FROM restmon.observation WHERE store_id = 'old'), 0::bigint,
	'store old has no poll left');

-- restmon.store with a trigger of the user's: every row goes through SQL
-- (store_track.c), still one store after another; the trigger sees each
-- new store's insert, then the update that widens t1
CREATE TABLE public.store_writes (store_id text, op text);
CREATE FUNCTION public.note_store_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.store_writes VALUES (NEW.store_id, TG_OP);
	RETURN NULL;
END $$;
CREATE TRIGGER note AFTER INSERT OR UPDATE ON restmon.store
	FOR EACH ROW EXECUTE FUNCTION public.note_store_write();
SELECT is((SELECT row(received, loaded, duplicate, rejected)::text
		   FROM restmon_record_polls(pg_temp.polls('{t2,t1}', 0, 1))),
	'(4,4,0,0)', 'with a user trigger on restmon.store: a batch of two new stores');
SELECT is((SELECT row(received, loaded, duplicate, rejected)::text
		   FROM restmon_record_polls(pg_temp.polls('{t1}', 1, 2))),
	'(2,1,1,0)', 'and one that widens store t1');
SELECT is((SELECT string_agg(store_id || ' ' || op, ', ' ORDER BY store_id, op)
		   FROM public.store_writes),
	't1 INSERT, t1 UPDATE, t2 INSERT', 'the trigger saw each write');
SELECT is((SELECT string_agg(store_id || ' ' || to_char(first_observed_at, 'HH24') || '-' ||
							 to_char(last_observed_at, 'HH24'), ', ' ORDER BY store_id)
		   FROM restmon.store WHERE store_id LIKE 't%'),
	't1 00-02, t2 00-01', 'the rows hold each store''s first and latest poll');
DROP TRIGGER note ON restmon.store;
DROP FUNCTION public.note_store_write();
DROP TABLE public.store_writes;

SELECT count(*) FROM (
	SELECT dblink_disconnect('c' || j) FROM generate_series(1, 4) j) d;
SELECT * FROM finish();
