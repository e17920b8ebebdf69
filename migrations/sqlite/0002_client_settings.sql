-- Per-client settings of issue #3 and later (ClientSettings, JSON).
ALTER TABLE clients ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
