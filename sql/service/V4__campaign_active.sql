-- The campaigns active now, each in its newest version: where the watcher of new favourites that
-- runs in the SparkRunner's driver finds which campaigns a client who adds a restaurant is late
-- for (docs/architecture.md, Late subscribers). Written by the pipeline as it lets a campaign
-- through or records a new version of it (one statement per micro-batch partition), read by the
-- watcher every second (rows recorded since its last read); a row is deleted a minute after its
-- campaign's end. The other runners keep this in their late step's state and leave the table
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
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS campaign_active_recorded_at ON public.campaign_active (recorded_at);
