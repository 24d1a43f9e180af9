-- The search index's pending list (GIN "fast update") is flushed into the index by the insert that finds it over
-- gin_pending_list_limit, inside that insert: with the default 4 MB, one message batch in every ~14 s took 220-540 ms
-- at 4,000 messages/s (chat-service's socket benchmark; PostgreSQL's log), which was the maximum latency of every run.
-- At 256 kB each flush is a sixteenth of that work (the same total), so no insert waits for more than tens of ms; the
-- pending list still batches the index's updates (fastupdate off took the same CPU here, but sends every word of every
-- message to the index at once, which costs more as the index grows). A storage parameter: no rebuild. It takes the
-- index's ACCESS EXCLUSIVE lock for an instant, but waits for that lock behind any running search, and every insert
-- would queue behind it meanwhile: so it gives up after 5 s (the migration Job fails and is retried) rather than
-- hold the writes back behind a slow query.
SET LOCAL lock_timeout = '5s';
ALTER INDEX messages_search_idx SET (gin_pending_list_limit = 256);
