-- The delivery ledger: one row per slice of notifications recorded in subscribers_feedback,
-- written in the same transaction as the slice's rows. A fan-out numbers its slices from 1 and
-- writes on its last one how many it made (of_slices); a fan-out with nothing to send writes one
-- row (slice 0, of_slices 0). A campaign is fully delivered when one of its fan-outs has all its
-- slices here, and a restart's replay then skips it without reading its feedback rows (README,
-- Delivery guarantees). About one row per 2,000 notifications. The service refuses to start
-- without this table. Safe to run more than once.
CREATE TABLE IF NOT EXISTS public.campaign_slices (
    adv_campaign_id text        NOT NULL,
    fanout_id       text        NOT NULL,
    slice           integer     NOT NULL,
    of_slices       integer,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (adv_campaign_id, fanout_id, slice)
);
