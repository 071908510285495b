-- The campaigns active now, each in its newest version: where the watcher of new favourites that
-- runs in the SparkRunner's driver finds which campaigns a client who adds a restaurant is late
-- for (docs/architecture.md, Late subscribers). Written by the pipeline as it lets a campaign
-- through or records a new version of it (one statement per micro-batch partition), read by the
-- watcher every second; a row is deleted a minute after its campaign's end. Each write stamps the
-- row with its transaction's id (recorded_xid), and the watcher reads the rows of transactions at
-- or after the oldest one still running at its last read: a write that commits late is read late,
-- never missed (a time stamped at the statement's start could commit after a later read's
-- start). The other runners keep this in their late step's state and leave the table
-- empty. Safe to run more than once.
CREATE TABLE IF NOT EXISTS public.campaign_active (
    adv_campaign_id text        PRIMARY KEY,
    restaurant_id   text        NOT NULL,
    content         text        NOT NULL,
    owner           text        NOT NULL,
    owner_contact   text        NOT NULL,
    start_epoch     bigint      NOT NULL,
    end_epoch       bigint      NOT NULL,
    created_epoch   bigint      NOT NULL,
    recorded_xid    xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS campaign_active_recorded_xid ON public.campaign_active (recorded_xid);
