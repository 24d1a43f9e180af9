-- The search index's pending list (GIN "fast update") is flushed into the index by the insert that finds it over
-- gin_pending_list_limit, inside that insert: with the default 4 MB, one message batch in every ~14 s took 220-540 ms
-- at 4,000 messages/s (chat-service's socket benchmark; PostgreSQL's log), which was the maximum latency of every run.
-- At 256 kB each flush is a sixteenth of that work (the same total), so no insert waits for more than tens of ms; the
-- pending list still batches the index's updates (fastupdate off took the same CPU here, but sends every word of every
-- message to the index at once, which costs more as the index grows). A storage parameter: no rebuild, no lock beyond
-- a moment's.
ALTER INDEX messages_search_idx SET (gin_pending_list_limit = 256);
