-- EVCharging Central's database. Applied at every start: every statement is idempotent.

PRAGMA foreign_keys = ON;

-- Every CP that ever registered. Its shown state is derived at run time; only the
-- operator's PARAR is stored, because it must survive restarts and reconnects. A CP the
-- operator forgot keeps its row (its sessions refer to it) with forgotten_at set, and is not
-- loaded again; a registration under its id makes it a new CP. (Databases made before this
-- column existed gain it when Central opens them: see db.ts.)
CREATE TABLE IF NOT EXISTS charging_points (
  cp_id            TEXT PRIMARY KEY,
  location         TEXT NOT NULL,
  price_eur_kwh    REAL NOT NULL CHECK (price_eur_kwh >= 0),
  operator_stopped INTEGER NOT NULL DEFAULT 0 CHECK (operator_stopped IN (0, 1)),
  secret_hash      TEXT,
  registered_at    INTEGER NOT NULL,  -- ms since the epoch
  last_seen_at     INTEGER NOT NULL,
  forgotten_at     INTEGER            -- NULL while the CP is part of the network
);

-- One row per authorized charge. RUNNING until the supply ends (ENDED) or is cut (ABORTED).
-- A row Central closed without the engine's word (watchdog, cancel, PARAR, AVERIA) is
-- provisional (1) with Central's last figures, until the engine's own end settles it to its
-- record (provisional 0, settled_at set); a row closed by the engine's end is final at once.
-- (Databases made before these two columns gain them when Central opens them: see db.ts.)
CREATE TABLE IF NOT EXISTS sessions (
  session_id    TEXT PRIMARY KEY,
  request_id    TEXT NOT NULL UNIQUE,
  cp_id         TEXT NOT NULL REFERENCES charging_points (cp_id),
  driver_id     TEXT NOT NULL,
  price_eur_kwh REAL NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('RUNNING', 'ENDED', 'ABORTED')),
  consumo_kwh   REAL NOT NULL DEFAULT 0,
  importe_eur   REAL NOT NULL DEFAULT 0,
  last_seq      INTEGER NOT NULL DEFAULT -1,
  started_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  ended_at      INTEGER,
  end_reason    TEXT,
  provisional   INTEGER NOT NULL DEFAULT 0 CHECK (provisional IN (0, 1)),
  settled_at    INTEGER            -- when the engine's end made the row final
);
CREATE INDEX IF NOT EXISTS sessions_by_cp ON sessions (cp_id, started_at);
CREATE INDEX IF NOT EXISTS sessions_running ON sessions (status) WHERE status = 'RUNNING';

-- Requests answered DENIED, so that one read again after a crash is not decided twice
-- (authorized ones are in sessions). Only the latest are kept.
CREATE TABLE IF NOT EXISTS denials (
  request_id TEXT PRIMARY KEY,
  denied_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS denials_by_time ON denials (denied_at);

-- Everything that happened, in order: registrations, state changes, session steps.
CREATE TABLE IF NOT EXISTS events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  cp_id      TEXT,
  session_id TEXT,
  kind       TEXT NOT NULL,
  detail     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_cp ON events (cp_id, at);
CREATE INDEX IF NOT EXISTS events_by_time ON events (at);

-- Control messages (authorizations, tickets, commands) written in the same transaction as the
-- state change that caused them, and deleted once Kafka has acknowledged them. A crash or a
-- broker outage between the two leaves them here, and they are sent again: receivers drop
-- duplicates by message id.
CREATE TABLE IF NOT EXISTS outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL UNIQUE,
  msg_key    TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Each CP's key for the codes on its telemetry (shared/protocol/record_mac.ts): a new one at
-- every registration, and the one before it, still valid for records signed just before.
-- Here so that a restarted Central or its standby checks what was signed under the old one.
CREATE TABLE IF NOT EXISTS cp_keys (
  cp_id       TEXT PRIMARY KEY,
  key_id      INTEGER NOT NULL,
  secret      TEXT NOT NULL,
  prev_id     INTEGER,
  prev_secret TEXT,
  issued_at   INTEGER NOT NULL
);

-- Which Central may write (central/lease.ts): one row, renewed by the active Central. A Central
-- takes the lease only when it has expired, and every write transaction first checks that the
-- epoch is still its own: a Central that lost the lease (frozen, cut off) writes nothing more.
CREATE TABLE IF NOT EXISTS central_lease (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  holder     TEXT NOT NULL,
  epoch      INTEGER NOT NULL,
  expires_at INTEGER NOT NULL  -- ms since the epoch
);
