/**
 * What a bulk load takes, shared by bulk-loader.ts and each engine's loader
 * (dialects/<engine>/<engine>-bulk-load.ts), which import it from here and not from each other.
 */
export interface BulkLoadOptions {
  /**
   * Called after each piece reaches the engine, with its rows and bytes. A caller that counts the
   * rows of its pieces anyway reports progress itself and leaves this out: the PostgreSQL loader
   * then does not scan the pieces for line ends (it returns the server's count).
   */
  onProgress?: (rows: number, bytes: number) => void;
  /**
   * The table holds nothing that must stay (the caller would empty it anyway). Where the engine's
   * loader empties the table itself (EngineCapabilities.loadReplaces: PostgreSQL) it does so with
   * TRUNCATE in the load's own transaction, which lets COPY skip the free space map and freeze the
   * rows: the rows land in load order, so a natural-order read gives them back in that order
   * (table-reader.ts), and they are all-visible, so that read checks no tuple's visibility. Other
   * engines ignore it (their callers empty the table).
   */
  replace?: boolean;
}

/** Row text: buffers of whole lines (row-text.ts). */
export type TextSource = AsyncIterable<Buffer>;
