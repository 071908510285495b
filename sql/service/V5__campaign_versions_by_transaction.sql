-- campaign_versions read by transaction, as campaign_active is (V4): each write stamps its row
-- with its transaction's id (recorded_xid), and a worker reads the rows of transactions at or after
-- the oldest one still running at its last read. A version whose write committed late (a slow
-- disk, a lock) is read late, never missed: read by the time stamped at its start (changed_at,
-- looked back 5 s) it was missed when the commit came more than 5 s later, and a campaign ended
-- early went on being delivered. Rows written before this migration carry its transaction's id
-- and are read once more. Safe to run more than once.
ALTER TABLE public.campaign_versions
    ADD COLUMN IF NOT EXISTS recorded_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS campaign_versions_recorded_xid
    ON public.campaign_versions (recorded_xid);
