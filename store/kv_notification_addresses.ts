/// <reference lib="deno.unstable" />
/**
 * Notification addresses on Deno KV, one entry per (board, person) under
 * `["akkoord", "notification_addresses", <board>, <subject>]`. Lookups are
 * synchronous (mails are composed by pure functions), so they read a copy in
 * memory, kept current by this instance's writes and reloaded in the
 * background when older than {@link ADDRESS_REFRESH_MS}.
 */
import type { Mandate } from "../domain/actor.ts";
import type { NotificationAddress, NotificationAddresses } from "./notification_addresses.ts";
import { retryWhenLocked } from "./kv_retry.ts";

/** How stale the copy in memory may get before a lookup reloads it. */
export const ADDRESS_REFRESH_MS = 5_000;

const PREFIX: Deno.KvKey = ["akkoord", "notification_addresses"];

/** Settings of {@link openKvNotificationAddresses}. */
export interface KvNotificationAddressesOptions {
  kv: Deno.Kv;
  now?: () => Date;
}

/** The notification addresses kept in `kv`; `close` waits for a reload under way. */
export async function openKvNotificationAddresses(
  options: KvNotificationAddressesOptions,
): Promise<NotificationAddresses & { close(): Promise<void> }> {
  const { kv } = options;
  const now = options.now ?? (() => new Date());
  let addresses = await loadAll(kv);
  let loadedAt = Date.now();
  let reloading: Promise<void> | null = null;

  function current(): Map<string, NotificationAddress> {
    if (Date.now() - loadedAt >= ADDRESS_REFRESH_MS && reloading === null) {
      reloading = loadAll(kv)
        .then((loaded) => {
          addresses = loaded;
          loadedAt = Date.now();
        })
        .catch(() => undefined)
        .finally(() => reloading = null);
    }
    return addresses;
  }

  async function save(input: Omit<NotificationAddress, "savedAt">): Promise<NotificationAddress> {
    const entry: NotificationAddress = {
      ...input,
      mandates: [...new Set(input.mandates)],
      savedAt: now().toISOString(),
    };
    await retryWhenLocked(() => kv.set([...PREFIX, entry.board, entry.subject], entry)).catch(
      (error) => {
        throw new Error(
          `Cannot save the notification address of board "${entry.board}" in Deno KV: ${
            messageOf(error)
          }`,
        );
      },
    );
    addresses.set(keyOf(entry.board, entry.subject), entry);
    return { ...entry, mandates: [...entry.mandates] };
  }

  async function remove(board: string, subject: string): Promise<boolean> {
    const key = [...PREFIX, board, subject];
    const entry = await retryWhenLocked(() => kv.get(key));
    addresses.delete(keyOf(board, subject));
    if (entry.versionstamp === null) return false;
    await retryWhenLocked(() => kv.delete(key)).catch((error) => {
      throw new Error(
        `Cannot remove a notification address of board "${board}" from Deno KV: ${
          messageOf(error)
        }`,
      );
    });
    return true;
  }

  function find(board: string, subject: string): NotificationAddress | null {
    const entry = current().get(keyOf(board, subject));
    return entry ? { ...entry, mandates: [...entry.mandates] } : null;
  }

  function holders(board: string, mandate: Mandate): string[] {
    return [...current().values()]
      .filter((entry) => entry.board === board && entry.mandates.includes(mandate))
      .map((entry) => entry.email);
  }

  async function close(): Promise<void> {
    await reloading;
  }

  return { save, remove, find, holders, close };
}

async function loadAll(kv: Deno.Kv): Promise<Map<string, NotificationAddress>> {
  const addresses = new Map<string, NotificationAddress>();
  for await (const entry of kv.list<NotificationAddress>({ prefix: PREFIX })) {
    addresses.set(keyOf(entry.value.board, entry.value.subject), entry.value);
  }
  return addresses;
}

function keyOf(board: string, subject: string): string {
  return `${board}\n${subject}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
