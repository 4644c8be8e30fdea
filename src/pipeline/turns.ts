/** A place in line for one key. */
export interface Turn {
  /** Who holds the key now, so this turn waits for them (undefined: nobody, it is this one's at once). */
  after: string | undefined;
  /** Resolves when the turn comes. */
  ready: Promise<void>;
  /** Gives the key to the next in line; calling it again does nothing. */
  end(): void;
}

/**
 * One holder at a time per key, in the order asked. `build --jobs` compiles the targets that share
 * a Go build cache one after another: Go's cache shares finished work, not work in flight, so two
 * neighbouring tags compiled side by side both compile what, one after the other, the second reads
 * from the cache (on 2 CPUs real runc rc9 and rc10 took 1.43× as long side by side).
 */
export class Turns {
  readonly #last = new Map<string, { holder: string; done: Promise<void> }>();

  ask(key: string, who: string): Turn {
    const before = this.#last.get(key);
    const ready = before?.done ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // Done when this holder and all before it are: one that ends early never lets the next in beside another.
    const entry = { holder: who, done: Promise.all([ready, mine]).then(() => undefined) };
    this.#last.set(key, entry);
    // A key whose last holder is done is free: nothing of it is kept.
    void entry.done.then(() => this.#last.get(key) === entry && this.#last.delete(key));
    return { after: before?.holder, ready, end: release };
  }
}
