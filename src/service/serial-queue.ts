// One-at-a-time execution: reloads never overlap each other, nor do config edits.

/** Runs `fn` after every earlier task of this queue has settled (fulfilled or not); resolves or rejects as `fn` does. */
export type SerialQueue = <T>(fn: () => Promise<T>) => Promise<T>;

export function createSerialQueue(): SerialQueue {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  };
}
