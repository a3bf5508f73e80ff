-- requires: (nothing)
-- Cron expressions, the way pg_cron and the system's cron read them: five fields (minute, hour,
-- day of month, month, day of week) with *, lists, ranges, steps and names (JAN, MON), or a macro
-- (@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually). Times are UTC. The day rule
-- is vixie cron's, which pg_cron and the system's cron share: when either day field starts with
-- `*` (`*`, `*/2`), a day must match both fields; otherwise (both restricted) either. So
-- `0 2 */2 * 1-5` runs on odd days that are weekdays. The only place they are read:
-- the schedules table checks with cron_parse, the runner asks cron_prev, screens ask cron_next
-- and cron_words.

-- One field as the sorted list of values it allows; raises 22023 naming the field and the fault.
CREATE OR REPLACE FUNCTION backup.cron_field(field text, lo integer, hi integer, names text[], what text)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    part  text;
    range text;
    step  integer;
    a     integer;
    b     integer;
    out   integer[] := '{}';
BEGIN
    IF field IS NULL OR field = '' THEN
        RAISE EXCEPTION 'the % field is empty', what USING ERRCODE = '22023';
    END IF;
    FOREACH part IN ARRAY string_to_array(field, ',') LOOP
        range := split_part(part, '/', 1);
        step := 1;
        IF part LIKE '%/%' THEN
            IF split_part(part, '/', 2) !~ '^[0-9]{1,4}$' OR split_part(part, '/', 2)::integer = 0 THEN
                RAISE EXCEPTION 'the % field has a bad step in "%"', what, part USING ERRCODE = '22023';
            END IF;
            step := split_part(part, '/', 2)::integer;
        END IF;
        IF range = '*' THEN
            a := lo;
            b := hi;
        ELSE
            a := backup.cron_value(split_part(range, '-', 1), names, lo, what);
            b := CASE WHEN range LIKE '%-%' THEN backup.cron_value(split_part(range, '-', 2), names, lo, what)
                      WHEN part LIKE '%/%' THEN hi
                      ELSE a END;
        END IF;
        IF a < lo OR b > hi OR a > b THEN
            RAISE EXCEPTION 'the % field allows %-%, not "%"', what, lo, hi, part USING ERRCODE = '22023';
        END IF;
        out := out || ARRAY(SELECT generate_series(a, b, step));
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT v FROM unnest(out) v ORDER BY v);
END
$fn$;

-- A number, or a name's position (JAN = 1 with lo 1, SUN = 0 with lo 0).
CREATE OR REPLACE FUNCTION backup.cron_value(token text, names text[], lo integer, what text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    i integer;
BEGIN
    IF token ~ '^[0-9]{1,4}$' THEN
        RETURN token::integer;
    END IF;
    i := array_position(names, upper(token));
    IF i IS NULL THEN
        RAISE EXCEPTION 'the % field has "%", which is not a number%', what, token,
            CASE WHEN names <> '{}' THEN ' or one of ' || array_to_string(names, ', ') ELSE '' END
            USING ERRCODE = '22023';
    END IF;
    RETURN i - 1 + lo;
END
$fn$;

CREATE OR REPLACE FUNCTION backup.cron_parse(expr text) RETURNS backup.cron_spec
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    normal text := lower(btrim(coalesce(expr, '')));
    f      text[];
    spec   backup.cron_spec;
BEGIN
    normal := CASE normal
        WHEN '@yearly' THEN '0 0 1 1 *' WHEN '@annually' THEN '0 0 1 1 *'
        WHEN '@monthly' THEN '0 0 1 * *' WHEN '@weekly' THEN '0 0 * * 0'
        WHEN '@daily' THEN '0 0 * * *' WHEN '@midnight' THEN '0 0 * * *'
        WHEN '@hourly' THEN '0 * * * *' ELSE normal END;
    f := regexp_split_to_array(normal, '\s+');
    IF normal = '' OR array_length(f, 1) <> 5 THEN
        RAISE EXCEPTION 'invalid cron expression "%": five fields are needed (minute hour day-of-month month day-of-week)', expr
            USING ERRCODE = '22023',
                  HINT = 'e.g. "0 2 * * *" (every day at 02:00 UTC), "30 3 * * 0" (Sundays at 03:30), or @daily';
    END IF;
    BEGIN
        spec.minutes := backup.cron_field(f[1], 0, 59, '{}'::text[], 'minute'::text);
        spec.hours := backup.cron_field(f[2], 0, 23, '{}'::text[], 'hour'::text);
        spec.days := backup.cron_field(f[3], 1, 31, '{}'::text[], 'day-of-month'::text);
        spec.months := backup.cron_field(f[4], 1, 12,
            '{JAN,FEB,MAR,APR,MAY,JUN,JUL,AUG,SEP,OCT,NOV,DEC}'::text[], 'month'::text);
        spec.weekdays := ARRAY(SELECT DISTINCT CASE WHEN d = 7 THEN 0 ELSE d END
                                 FROM unnest(backup.cron_field(f[5], 0, 7, '{SUN,MON,TUE,WED,THU,FRI,SAT}'::text[],
                                                               'day-of-week'::text)) d ORDER BY 1);
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'invalid cron expression "%": %', expr, SQLERRM
            USING ERRCODE = '22023',
                  HINT = 'e.g. "0 2 * * *" (every day at 02:00 UTC), "30 3 * * 0" (Sundays at 03:30), or @daily';
    END;
    -- vixie cron's DOM_STAR / DOW_STAR: the field's first character, not the whole field.
    spec.any_day := f[3] LIKE '*%';
    spec.any_weekday := f[5] LIKE '*%';
    RETURN spec;
END
$fn$;

-- For the schedules table's CHECK: true, or the parse error.
CREATE OR REPLACE FUNCTION backup.cron_valid(expr text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM backup.cron_parse(expr);
    RETURN true;
END
$fn$;

CREATE OR REPLACE FUNCTION backup.cron_day_matches(spec backup.cron_spec, day date) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT date_part('month', day)::integer = ANY (spec.months)
       AND CASE WHEN spec.any_day OR spec.any_weekday
                THEN date_part('day', day)::integer = ANY (spec.days)
                 AND date_part('dow', day)::integer = ANY (spec.weekdays)
                ELSE date_part('day', day)::integer = ANY (spec.days)
                  OR date_part('dow', day)::integer = ANY (spec.weekdays) END
$$;

-- The latest minute at or before `at` the expression fires at (NULL if none in 28 years: the whole
-- cycle of weekdays and leap days; months it does not name are skipped whole).
CREATE OR REPLACE FUNCTION backup.cron_prev(expr text, at timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    spec  backup.cron_spec := backup.cron_parse(expr);
    t     timestamp := date_trunc('minute', at AT TIME ZONE 'UTC');
    day   date := t::date;
    stop  date := t::date - interval '28 years';
    best  integer;
BEGIN
    WHILE day >= stop LOOP
        IF NOT date_part('month', day)::integer = ANY (spec.months) THEN
            day := date_trunc('month', day)::date - 1;  -- the last day of the month before
            CONTINUE;
        END IF;
        IF backup.cron_day_matches(spec, day) THEN
            SELECT max(h * 60 + m) INTO best
              FROM unnest(spec.hours) h, unnest(spec.minutes) m
             WHERE day < t::date OR h * 60 + m <= date_part('hour', t)::integer * 60 + date_part('minute', t)::integer;
            IF best IS NOT NULL THEN
                RETURN (day + make_interval(mins => best)) AT TIME ZONE 'UTC';
            END IF;
        END IF;
        day := day - 1;
    END LOOP;
    RETURN NULL;
END
$fn$;

-- The next `how_many` minutes after `after` the expression fires at (within 28 years).
CREATE OR REPLACE FUNCTION backup.cron_next(expr text, after timestamptz, how_many integer DEFAULT 1)
RETURNS SETOF timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    spec  backup.cron_spec := backup.cron_parse(expr);
    t     timestamp := date_trunc('minute', after AT TIME ZONE 'UTC');
    day   date := t::date;
    stop  date := t::date + interval '28 years';
    found integer := 0;
    m     integer;
BEGIN
    WHILE day <= stop LOOP
        IF NOT date_part('month', day)::integer = ANY (spec.months) THEN
            day := (date_trunc('month', day) + interval '1 month')::date;  -- the first of the next month
            CONTINUE;
        END IF;
        IF backup.cron_day_matches(spec, day) THEN
            FOR m IN
                SELECT h * 60 + mi FROM unnest(spec.hours) h, unnest(spec.minutes) mi
                 WHERE day > t::date OR h * 60 + mi > date_part('hour', t)::integer * 60 + date_part('minute', t)::integer
                 ORDER BY 1
            LOOP
                RETURN NEXT (day + make_interval(mins => m)) AT TIME ZONE 'UTC';
                found := found + 1;
                IF found >= how_many THEN
                    RETURN;
                END IF;
            END LOOP;
        END IF;
        day := day + 1;
    END LOOP;
END
$fn$;

-- The expression in words, for the common shapes ('every day at 02:00 UTC', 'every 15 minutes',
-- 'every Sunday at 03:30 UTC', 'on day 1 of every month at 04:00 UTC'); otherwise 'cron EXPR (UTC)'.
CREATE OR REPLACE FUNCTION backup.cron_words(expr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    spec backup.cron_spec := backup.cron_parse(expr);
    f    text[] := regexp_split_to_array(lower(btrim(expr)), '\s+');
    hm   text;
    days text;
BEGIN
    IF f[1] LIKE '@%' THEN
        f := regexp_split_to_array(CASE f[1]
            WHEN '@yearly' THEN '0 0 1 1 *' WHEN '@annually' THEN '0 0 1 1 *'
            WHEN '@monthly' THEN '0 0 1 * *' WHEN '@weekly' THEN '0 0 * * 0'
            WHEN '@hourly' THEN '0 * * * *' ELSE '0 0 * * *' END, '\s+');
    END IF;
    IF f[2] = '*' AND f[3] = '*' AND f[4] = '*' AND f[5] = '*' THEN
        IF f[1] = '*' THEN
            RETURN 'every minute';
        ELSIF f[1] ~ '^\*/[0-9]+$' THEN
            RETURN 'every ' || split_part(f[1], '/', 2) || ' minutes';
        ELSIF cardinality(spec.minutes) = 1 THEN
            RETURN 'every hour at :' || lpad(spec.minutes[1]::text, 2, '0');
        END IF;
    END IF;
    IF cardinality(spec.minutes) <> 1 OR cardinality(spec.hours) <> 1 THEN
        RETURN 'cron ' || btrim(expr) || ' (UTC)';
    END IF;
    hm := lpad(spec.hours[1]::text, 2, '0') || ':' || lpad(spec.minutes[1]::text, 2, '0') || ' UTC';
    IF f[3] = '*' AND f[4] = '*' AND f[5] = '*' THEN
        RETURN 'every day at ' || hm;
    ELSIF f[3] = '*' AND f[4] = '*' THEN
        SELECT string_agg((ARRAY['Sunday','Monday','Tuesday','Wednesday','Thursday','Friday','Saturday'])[d + 1], ', '
                          ORDER BY (d + 6) % 7)
          INTO days FROM unnest(spec.weekdays) d;
        RETURN 'every ' || days || ' at ' || hm;
    ELSIF f[4] = '*' AND f[5] = '*' AND cardinality(spec.days) = 1 THEN
        RETURN 'on day ' || spec.days[1] || ' of every month at ' || hm;
    ELSIF f[5] = '*' AND cardinality(spec.days) = 1 AND cardinality(spec.months) = 1 THEN
        RETURN 'every year on ' || to_char(make_date(2000, spec.months[1], 1), 'FMMonth') || ' ' || spec.days[1]
               || ' at ' || hm;
    END IF;
    RETURN 'cron ' || btrim(expr) || ' (UTC)';
END
$fn$;

-- Why an expression never fires (NULL: it does), for add_schedule and update_schedule: under the
-- rule where both day fields must match, a day of the month no month it names has (`0 0 30 2 *`,
-- `0 0 31 4 *`). Every other day-of-month a named month has meets every weekday in some year
-- (February 29 too, within 28 years), and when either field alone suffices, the weekdays do.
CREATE OR REPLACE FUNCTION backup.cron_never(expr text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('"%s" never runs: no month it names has day %s', btrim(expr), array_to_string(s.days, ', '))
      FROM (SELECT backup.cron_parse(expr) AS spec) p, LATERAL (SELECT (p.spec).days, (p.spec).months,
                                                                       (p.spec).any_day OR (p.spec).any_weekday AS both) s
     WHERE s.both
       AND NOT EXISTS (SELECT 1 FROM unnest(s.months) m, unnest(s.days) d
                        WHERE d <= CASE WHEN m = 2 THEN 29 WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END)
$$;
