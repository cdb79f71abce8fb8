-- Dashboard accounts: a name and a password, for people rather than
-- scripts. Only the password's argon2id hash is kept, in the PHC string
-- form ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so that its parameters can
-- change without a migration.

CREATE TABLE accounts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reader')),
    password         TEXT NOT NULL,
    created          TIMESTAMPTZ NOT NULL,
    password_changed TIMESTAMPTZ NOT NULL,
    last_login       TIMESTAMPTZ,
    disabled         TIMESTAMPTZ
);
