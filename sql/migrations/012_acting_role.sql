-- 012: the audit records the role a session acted as, besides who it is (actor = session_user):
-- after SET ROLE, the role whose rights the call used. NULL when the session acts as its login role.
-- Every audit row is written by a function of ours; the default is evaluated in the caller's
-- session, where the `role` setting is what the session set (a SECURITY DEFINER function does not
-- change it).
ALTER TABLE backup.backup_audit ADD COLUMN IF NOT EXISTS acting_role text
    DEFAULT nullif(pg_catalog.current_setting('role'), 'none');
