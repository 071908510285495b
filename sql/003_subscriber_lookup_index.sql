-- The index --subscribers=lookup reads a restaurant's subscribers through: one index-only range
-- per campaign, in client order, instead of a scan of the whole table. The service refuses to start
-- in lookup mode without it. CONCURRENTLY keeps the table writable while a big one is indexed
-- (it cannot run inside a transaction block). Safe to run more than once.
CREATE INDEX CONCURRENTLY IF NOT EXISTS subscribers_restaurants_restaurant_client_idx
    ON public.subscribers_restaurants (restaurant_id, client_id);
