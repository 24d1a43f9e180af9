-- The database roles of company chat with the migration Job (deploy/README.md, "Database migrations").
-- Run once as a superuser (or a role with CREATEROLE and CREATEDB), before the first deploy:
--
--   psql -h <host> -U postgres -v ON_ERROR_STOP=1 -v database=chat -v owner=chat_owner -v app=chat_app \
--        -v owner_password="$(openssl rand -base64 32)" -v app_password="$(openssl rand -base64 32)" \
--        -f deploy/database-roles.sql
--
-- and put the two passwords in the Secrets company-chat-db-owner (chat_owner) and company-chat-db (chat_app).
-- The role names are what the prod overlays use (components/migrations: PGUSER); auth-service's MigrationRolesIT
-- runs this file with names of its own.
--
--   chat_owner  owns the database and its schema: the migration Job logs in as it (Flyway creates the tables,
--               indexes and its history table, all owned by chat_owner).
--   chat_app    what the services log in as: connects, reads and writes rows, uses the identity sequences;
--               may not create, alter or drop anything (no CREATE on the schema, owns nothing).
--
-- Default privileges give chat_app the rows of every table chat_owner creates later, so a migration that adds a
-- table needs no grant of its own. Safe to run again (an existing database: the grants below also cover the
-- tables there already; the roles' passwords are reset).

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :'owner_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'owner', :'owner_password') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app', :'app_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'app', :'app_password') \gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'database', :'owner') \gexec
-- nobody but the two roles (and superusers) may connect
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'database', :'app') \gexec

\connect :database

-- the schema belongs to the owner; nobody else may create objects in it
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- rows, not structure: what exists now, and whatever chat_owner creates from now on
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
