-- The application role's privileges, asserted after every migration (run as the owner; the
-- migrate unit does it: deploy/systemd/vardkontakt-migrate.service). Idempotent.
--
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -v app_role=vardkontakt_app -f deploy/postgres/grants.sql
--
-- The default privileges (roles.sql) already cover tables created since; this also covers tables
-- that existed before them and undoes any grant a migration added by hand.
\set ON_ERROR_STOP on

GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM :"app_role";

-- The audit log is append-only (docs/architecture.md, "The audit log"): a trigger refuses UPDATE
-- and DELETE, and the application role may not even ask. Its head row (the chain's last hash)
-- is updated with every entry, so access_audithead keeps UPDATE.
REVOKE UPDATE, DELETE ON access_auditentry FROM :"app_role";

-- Fail here, not in production traffic, if the application role could still rewrite the log.
-- (psql variables do not reach inside a DO block; a session setting carries the role's name.)
SET vardkontakt.app_role = :'app_role';
DO $$
DECLARE
    app text := current_setting('vardkontakt.app_role');
BEGIN
    IF has_table_privilege(app, 'access_auditentry', 'UPDATE')
       OR has_table_privilege(app, 'access_auditentry', 'DELETE')
       OR has_table_privilege(app, 'access_auditentry', 'TRUNCATE') THEN
        RAISE EXCEPTION 'the role % may still UPDATE, DELETE or TRUNCATE access_auditentry', app;
    END IF;
END
$$;
