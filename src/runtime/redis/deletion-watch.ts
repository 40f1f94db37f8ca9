/**
 * Waiting for a key of the Redis store to go. `delete` and `compareAndDelete` announce a removed
 * key on the store's channel once Redis has removed it (classic pub/sub, which a cluster delivers
 * on every node); waiters listen there on a second connection (`redis.duplicate()`, opened on
 * first use), so instances waiting for another's token request wake when it is done instead of
 * polling. A waiter trusts no announcement on its own: it reads the key's time to live after
 * each one, and every second in case one was lost.
 */
import { scheduleTimeout, type Timer } from '../shared/timers.js';
import type { RedisClientLike, RedisSubscriberLike } from './redis-client.js';
import { runCommand, storeError, type RedisStoreOperation } from './redis-store-error.js';

/**
 * How often a waiter looks at the key again on its own: a notification can be lost (the
 * subscriber reconnecting, a cluster failover), and a lost one must cost a second, not the lock.
 */
const recheckMs = 1_000;

/** The waiters of one store, and its announcements. */
export interface DeletionWatch {
  /** Tells every waiter on the channel that `name` is gone. Sent only after Redis removed it. */
  announce(operation: RedisStoreOperation, name: string): Promise<void>;
  /** `true` once `name` is absent; `false` after `timeoutMs` while it stays, or on close. */
  waitUntilAbsent(name: string, timeoutMs: number): Promise<boolean>;
  /** Releases every waiter with `false` and closes the notification connection, if open. */
  close(): void;
}

/**
 * The deletion watch of a store on `redis` whose announcements go on `channel`. `report` hears
 * the errors nobody waits for: the notification connection's, and failed announcements.
 */
export function createDeletionWatch(
  redis: RedisClientLike,
  channel: string,
  report: (error: Error) => void,
): DeletionWatch {
  /** Someone waiting for a key to go: `heard` when its name is announced, `stop` on close. */
  interface Waiter {
    heard(): void;
    stop(): void;
  }
  const waiting = new Map<string, Set<Waiter>>();
  let subscriber: RedisSubscriberLike | undefined;
  let subscribed: Promise<unknown> | undefined;

  function subscribe(): Promise<unknown> {
    if (subscribed) return subscribed;
    subscriber ??= (() => {
      const connection = redis.duplicate();
      connection.on('message', (from, name) => {
        if (from !== channel) return;
        const listeners = waiting.get(name);
        if (listeners) for (const waiter of [...listeners]) waiter.heard();
      });
      connection.on('error', (error) => report(storeError('waitUntilAbsent', error, [])));
      return connection;
    })();
    const pending = subscriber.subscribe(channel);
    subscribed = pending;
    pending.catch(() => {
      if (subscribed === pending) subscribed = undefined;
    });
    return pending;
  }

  /** Tells every waiter on the prefix that `name` is gone. Sent only after Redis removed it. */
  async function announce(operation: RedisStoreOperation, name: string): Promise<void> {
    try {
      await redis.publish(channel, name);
    } catch (error) {
      // The key is gone all the same; waiters find out at their next look.
      report(storeError(operation, error, []));
    }
  }

  return {
    announce,
    waitUntilAbsent(name, timeoutMs) {
      return new Promise<boolean>((resolve, reject) => {
        const listeners = waiting.get(name) ?? new Set<Waiter>();
        waiting.set(name, listeners);
        let timesUp = false;
        let looking = false;
        let lookAgain = false;
        let recheck: Timer | undefined;
        const settle = (finish: () => void) => {
          if (!listeners.delete(waiter)) return;
          if (listeners.size === 0 && waiting.get(name) === listeners) waiting.delete(name);
          deadline.cancel();
          recheck?.cancel();
          finish();
        };
        // Every wake-up (announcement, expiry, recheck, deadline) reads the key's time to live:
        // an announcement proves nothing on its own, and the key may have been taken again.
        const look = () => {
          if (looking) {
            lookAgain = true;
            return;
          }
          looking = true;
          recheck?.cancel();
          runCommand('waitUntilAbsent', [], () => redis.pttl(name)).then(
            (ttlMs) => {
              looking = false;
              if (!listeners.has(waiter)) return;
              if (ttlMs === -2) {
                settle(() => resolve(true));
                return;
              }
              if (lookAgain) {
                lookAgain = false;
                look();
                return;
              }
              if (timesUp) {
                settle(() => resolve(false));
                return;
              }
              // Expiry is not announced: look when it is due, and at least every recheckMs.
              const nextMs = ttlMs >= 0 ? Math.min(recheckMs, ttlMs + 1) : recheckMs;
              recheck = scheduleTimeout(look, nextMs);
            },
            (error: unknown) => {
              looking = false;
              settle(() => reject(error));
            },
          );
        };
        const waiter: Waiter = { heard: look, stop: () => settle(() => resolve(false)) };
        listeners.add(waiter);
        const deadline = scheduleTimeout(
          () => {
            timesUp = true;
            look();
          },
          Number.isNaN(timeoutMs) ? 0 : Math.max(0, timeoutMs),
        );
        // Listen first, then look: a delete between the two is heard, not missed.
        runCommand('waitUntilAbsent', [], subscribe).then(look, (error: unknown) =>
          settle(() => reject(error)),
        );
      });
    },
    close() {
      for (const listeners of [...waiting.values()])
        for (const waiter of [...listeners]) waiter.stop();
      waiting.clear();
      const connection = subscriber;
      subscriber = undefined;
      subscribed = undefined;
      connection?.disconnect();
    },
  };
}
