-- The service's two tables, as in the brief, plus the unique index that makes feedback writes
-- idempotent (INSERT ... ON CONFLICT DO NOTHING). Safe to run more than once.

CREATE TABLE IF NOT EXISTS public.subscribers_restaurants (
    id serial4 NOT NULL,
    client_id varchar NOT NULL,
    restaurant_id varchar NOT NULL,
    CONSTRAINT pk_id PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS public.subscribers_feedback (
    id serial4 NOT NULL,
    restaurant_id text NOT NULL,
    adv_campaign_id text NOT NULL,
    adv_campaign_content text NOT NULL,
    adv_campaign_owner text NOT NULL,
    adv_campaign_owner_contact text NOT NULL,
    adv_campaign_datetime_start int8 NOT NULL,
    adv_campaign_datetime_end int8 NOT NULL,
    datetime_created int8 NOT NULL,
    client_id text NOT NULL,
    -- int4 is the brief's choice: it overflows on 2038-01-19 (see README).
    trigger_datetime_created int4 NOT NULL,
    feedback varchar NULL,
    CONSTRAINT id_pk PRIMARY KEY (id)
);

CREATE UNIQUE INDEX IF NOT EXISTS subscribers_feedback_campaign_client_uq
    ON public.subscribers_feedback (adv_campaign_id, client_id);
