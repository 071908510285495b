-- Where the watcher of new favourites got to, per consumer group: every subscribers_restaurants id
-- up to seen_through has been looked at. A restart resumes from it, so a favourite added while the
-- service was stopped still reaches the campaigns active then (README, Time rules). One row per
-- group, written when the mark moves (at most every 2 s). Without this table the service runs and
-- warns at start-up; such favourites then reach a campaign only through its replayed fan-out.
-- Safe to run more than once.
CREATE TABLE IF NOT EXISTS public.campaign_notifier_watch (
    consumer_group text        PRIMARY KEY,
    seen_through   bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
