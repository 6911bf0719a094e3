-- Vårdkontakt's database and its two roles. Run once, as a superuser, before the first migration:
--
--   psql -v ON_ERROR_STOP=1 -v database=vardkontakt \
--        -v owner_role=vardkontakt_owner -v owner_password="$OWNER_PASSWORD" \
--        -v app_role=vardkontakt_app -v app_password="$APP_PASSWORD" -f deploy/postgres/roles.sql
--
-- The owner owns the database, its schema and every table; only it changes the schema (manage.py
-- migrate, deploy/systemd/vardkontakt-migrate.service). The application role, which the web server
-- and the workers log in as, may read and write rows and nothing else: no DDL, no TRUNCATE, and on
-- the audit log only SELECT and INSERT (grants.sql). A compromised web process can then neither
-- change the schema nor rewrite the audit log (whose trigger an owner could drop; the application
-- role cannot). docs/operations.md, "PostgreSQL roles", explains each grant.
\set ON_ERROR_STOP on

CREATE ROLE :"owner_role" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app_role" LOGIN PASSWORD :'app_password';

-- template0 with UTF8, whatever the cluster's default template holds.
CREATE DATABASE :"database" OWNER :"owner_role" ENCODING 'UTF8' TEMPLATE template0;

-- PUBLIC may connect to any database by default; here only the two roles may.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"app_role";

\connect :"database"

-- PostgreSQL 15: the public schema belongs to pg_database_owner (here the owner role) and PUBLIC
-- only has USAGE on it. Take even that from PUBLIC and give it to the application role by name.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";

-- Tables and sequences the owner creates later (each migration) are readable and writable by the
-- application at once, so new code never meets a table it may not use. grants.sql, run after each
-- migration, then takes back what the application must not have (UPDATE/DELETE on the audit log).
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
