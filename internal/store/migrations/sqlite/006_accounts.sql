-- Dashboard accounts: a name and a password, for people rather than
-- scripts. Only the password's argon2id hash is kept, in the PHC string
-- form ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so that its parameters can
-- change without a migration.

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reader')),
    password         TEXT NOT NULL,
    created          TEXT NOT NULL,
    password_changed TEXT NOT NULL,
    last_login       TEXT,
    disabled         TEXT
);
