/**
 * Which topics the broker has, from one listing shared by the calls of a
 * burst. kafkajs takes "unknown topic" for a passing state and retries an
 * offsets request for a topic the broker does not have for about 6 s; a
 * stream whose topic is gone (deleted outside Vigil, or never created) held
 * every `health` query that long. Asking the listing first answers at once.
 */
const LISTING_MAX_AGE_MS = 1000;

export class TopicDirectory {
  private listing: { askedAt: number; names: Promise<Set<string>> } | undefined;

  constructor(
    private readonly list: () => Promise<string[]>,
    private readonly now: () => number = Date.now,
  ) {}

  async has(topic: string): Promise<boolean> {
    const start = this.now();
    if ((await this.names(start - LISTING_MAX_AGE_MS)).has(topic)) return true;
    // Created since a listing that is still recent: a listing asked after this call began settles it.
    return (await this.names(start)).has(topic);
  }

  /** A listing asked at or after `since` (epoch ms): the shared one when it is, a new one otherwise. */
  private names(since: number): Promise<Set<string>> {
    const current = this.listing;
    if (current && current.askedAt >= since) return current.names;
    const listing = { askedAt: this.now(), names: this.list().then((names) => new Set(names)) };
    this.listing = listing;
    // A failed listing is not kept: the next call asks again.
    listing.names.catch(() => {
      if (this.listing === listing) this.listing = undefined;
    });
    return listing.names;
  }
}
