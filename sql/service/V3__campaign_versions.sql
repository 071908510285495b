-- The newest version of every campaign a restaurant published again with new fields (an update,
-- "sold out", a cancellation), written when the service reads that version. The fan-out and the
-- delivery look here before each turn and each slice, so a campaign ended early stops within a
-- slice per worker, and notifications made after an update carry its text (docs/contract.md,
-- Updates). Only changed campaigns have a row; a row is deleted once every version of it has
-- ended (keep_until_epoch). Without this table the service refuses to start. Safe to run more
-- than once.
CREATE TABLE IF NOT EXISTS public.campaign_versions (
    adv_campaign_id  text        PRIMARY KEY,
    restaurant_id    text        NOT NULL,
    content          text        NOT NULL,
    owner            text        NOT NULL,
    owner_contact    text        NOT NULL,
    start_epoch      bigint      NOT NULL,
    end_epoch        bigint      NOT NULL,
    created_epoch    bigint      NOT NULL,
    keep_until_epoch bigint      NOT NULL,
    changed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS campaign_versions_changed_at ON public.campaign_versions (changed_at);
