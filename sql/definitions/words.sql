-- requires: (nothing)
-- Words for intervals and ages: the only place they are made. The inventory and the plan hand them
-- out with every row (age_words), so the TUI and the CLI never phrase an age themselves.

-- A retention interval in the words the policy uses: '7 days', '4 weeks', '1 month', '12 months', 'forever'.
CREATE OR REPLACE FUNCTION backup.interval_words(i interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- date_part (double precision) rather than extract (numeric): it is cheaper.
    SELECT CASE
        WHEN i IS NULL THEN 'forever'
        WHEN date_part('day', i) = 0 AND date_part('epoch', i - date_trunc('day', i)) = 0
             AND date_part('year', i) * 12 + date_part('month', i) > 0 THEN
            (date_part('year', i) * 12 + date_part('month', i))::int
            || CASE WHEN date_part('year', i) * 12 + date_part('month', i) = 1 THEN ' month' ELSE ' months' END
        WHEN date_part('year', i) * 12 + date_part('month', i) = 0 AND date_part('epoch', i - date_trunc('day', i)) = 0
             AND date_part('day', i) >= 14 AND date_part('day', i)::int % 7 = 0 THEN
            (date_part('day', i)::int / 7) || ' weeks'
        WHEN date_part('year', i) * 12 + date_part('month', i) = 0 AND date_part('epoch', i - date_trunc('day', i)) = 0 THEN
            date_part('day', i)::int || CASE WHEN date_part('day', i) = 1 THEN ' day' ELSE ' days' END
        ELSE justify_interval(i)::text
    END
$$;

-- How old, in one unit, as people say it: '48 seconds', '5 minutes', '3 hours', '12 days',
-- '13 months', '3 years'. Whole units, rounded down (an age never reads older than it is, beside a
-- retention it has not reached); from a day on, in whole days d: days until two whole months
-- (d < 61; retention counts in days and weeks there), then months (d / 30.4375) until two whole
-- years, then years (d / 365): never "1 month" beside "59 days", never "1 year" at 730 days.
--
-- For many ages at once, in their order (NULL for NULL): the plan words every backup's age in one
-- call. A function that fixes its search_path is never inlined, and on PostgreSQL 15 each call of
-- an SQL function costs ~4-8 us whatever it does: 100,000 calls of the one-age form took 0.45 s
-- (0.9 s in the plan, which asked twice), this form 0.09 s. O(n).
CREATE OR REPLACE FUNCTION backup.ages_words(ages interval[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(CASE
        WHEN s IS NULL THEN NULL
        WHEN s < 60 THEN floor(s)::int || CASE WHEN floor(s) = 1 THEN ' second' ELSE ' seconds' END
        WHEN s < 3600 THEN floor(s / 60)::int || CASE WHEN floor(s / 60) = 1 THEN ' minute' ELSE ' minutes' END
        WHEN s < 86400 THEN floor(s / 3600)::int || CASE WHEN floor(s / 3600) = 1 THEN ' hour' ELSE ' hours' END
        WHEN d < 61 THEN d || CASE WHEN d = 1 THEN ' day' ELSE ' days' END
        WHEN d < 730 THEN floor(d / 30.4375)::int || ' months'
        ELSE floor(d / 365)::int || ' years'
    END ORDER BY a.o), '{}')
      FROM unnest(ages) WITH ORDINALITY a(age, o),
           -- greatest() skips NULLs: keep the NULL of an unknown age.
           LATERAL (SELECT CASE WHEN a.age IS NOT NULL THEN greatest(date_part('epoch', a.age), 0) END AS s) x,
           LATERAL (SELECT floor(x.s / 86400)::int AS d) days
$$;

-- One age: the same words (the rule above is the only one).
CREATE OR REPLACE FUNCTION backup.age_words(age interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT (backup.ages_words(ARRAY[age]))[1] $$;
