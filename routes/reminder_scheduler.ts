import { dueReminders, remindBoard, type ReminderPolicy } from "../domain/reminders.ts";
import type { State } from "../domain/state.ts";
import type { HistoryStore } from "../store/history.ts";

/** What {@link startReminderScheduler} needs. */
export interface ReminderSchedulerOptions {
  store: HistoryStore<State>;
  policy: ReminderPolicy;
  now: () => Date;
  /** Time between runs; an hour unless a test wants it shorter. */
  intervalMs?: number;
  /** Told of a reminder that could not be recorded; the run goes on with the next. */
  onError?: (error: unknown) => void;
}

/** A running scheduler of reminders and escalations. */
export interface ReminderScheduler {
  /** Appends every reminder and escalation due now; resolves with how many were appended. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for a run under way. */
  stop(): Promise<void>;
}

/** Runs every hour. */
export const REMINDER_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Appends the due reminders and escalations now and then every interval.
 * Each is decided again inside the store's transaction, so runs that overlap,
 * here or in a second scheduler, never record one twice.
 */
export function startReminderScheduler(options: ReminderSchedulerOptions): ReminderScheduler {
  const runs = new Set<Promise<number>>();

  async function appendDue(): Promise<number> {
    const at = options.now();
    let appended = 0;
    for (const due of dueReminders(options.store.state, at, options.policy)) {
      try {
        const { oid } = await options.store.transact((state) =>
          remindBoard(state, {
            board: due.board,
            supplier: due.supplier,
            at,
            policy: options.policy,
          })
        );
        if (oid !== null) appended++;
      } catch (error) {
        options.onError?.(error);
      }
    }
    return appended;
  }

  function runOnce(): Promise<number> {
    const run = appendDue();
    runs.add(run);
    return run.finally(() => runs.delete(run));
  }

  function tick(): void {
    runOnce().catch((error: unknown) => options.onError?.(error));
  }

  const timer = setInterval(tick, options.intervalMs ?? REMINDER_INTERVAL_MS);
  tick();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...runs]);
    },
  };
}
