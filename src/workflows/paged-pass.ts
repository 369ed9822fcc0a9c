/**
 * Reads a table in pages across passes of a periodic task: each call reads
 * the next `batchSize` rows after the last one it read (by id), and starts
 * over once a page comes back short. A large backlog is then covered over
 * several passes, each pass bounded.
 */
export function pagedPass<Row extends { id: string }>(batchSize: number, read: (afterId: string, take: number) => Promise<Row[]>): () => Promise<Row[]> {
  let afterId = '';
  return async () => {
    const page = await read(afterId, batchSize);
    afterId = page.length < batchSize ? '' : page.at(-1)!.id;
    return page;
  };
}
