/**
 * The addresses at which board people asked to be told when an agreement of
 * their board is escalated. They are personal data, kept outside the history:
 * one JSON file in the data folder, one address per (board, person), with the
 * mandates the person held when saving it. Losing the file loses no fact.
 */
import { z } from "zod";
import type { Mandate } from "../domain/actor.ts";
import { writeFileDurably } from "./durable_file.ts";

/** One person's notification address for one board. */
export interface NotificationAddress {
  board: string;
  /** The eHerkenning acting-subject pseudonym of the person. */
  subject: string;
  name: string;
  email: string;
  /** The mandates the person held when saving the address. */
  mandates: Mandate[];
  /** ISO 8601 timestamp. */
  savedAt: string;
}

/** The notification addresses of the service. */
export interface NotificationAddresses {
  /** Saves or replaces the person's address for the board. */
  save(address: Omit<NotificationAddress, "savedAt">): Promise<NotificationAddress>;
  /** Removes the person's address for the board; false when there was none. */
  remove(board: string, subject: string): Promise<boolean>;
  /** The person's address for the board, or null. */
  find(board: string, subject: string): NotificationAddress | null;
  /** The addresses of the board's people who held `mandate` when they saved them. */
  holders(board: string, mandate: Mandate): string[];
}

/** Settings of {@link openNotificationAddresses}. */
export interface NotificationAddressesOptions {
  /** The JSON file, e.g. `data/notification_addresses.json`; created on the first save. */
  path: string;
  now?: () => Date;
}

const StoredAddress = z.object({
  board: z.string().regex(/^\d{5}$/),
  subject: z.string().min(1),
  name: z.string(),
  email: z.string().min(3).max(254),
  mandates: z.array(z.enum(["beoordelen", "ondertekenen"])),
  savedAt: z.iso.datetime(),
});

const AddressFile = z.object({ addresses: z.array(StoredAddress) });

/** Opens the address file (a missing file means no addresses yet). */
export async function openNotificationAddresses(
  options: NotificationAddressesOptions,
): Promise<NotificationAddresses> {
  const now = options.now ?? (() => new Date());
  const addresses = new Map(
    (await readAddresses(options.path)).map((entry) => [keyOf(entry.board, entry.subject), entry]),
  );
  let writing: Promise<void> = Promise.resolve();

  function persist(): Promise<void> {
    const bytes = new TextEncoder().encode(
      JSON.stringify({ addresses: [...addresses.values()] }, null, 2) + "\n",
    );
    const write = writing.then(() => writeFileDurably(options.path, bytes, 0o600)).catch(
      (error: unknown) => {
        throw new Error(`Cannot write the notification address file "${options.path}"`, {
          cause: error,
        });
      },
    );
    writing = write.catch(() => undefined);
    return write;
  }

  async function save(input: Omit<NotificationAddress, "savedAt">): Promise<NotificationAddress> {
    const entry: NotificationAddress = {
      ...input,
      mandates: [...new Set(input.mandates)],
      savedAt: now().toISOString(),
    };
    const key = keyOf(entry.board, entry.subject);
    const previous = addresses.get(key);
    addresses.set(key, entry);
    try {
      await persist();
    } catch (error) {
      if (previous) addresses.set(key, previous);
      else addresses.delete(key);
      throw error;
    }
    return { ...entry };
  }

  async function remove(board: string, subject: string): Promise<boolean> {
    const key = keyOf(board, subject);
    const previous = addresses.get(key);
    if (previous === undefined) return false;
    addresses.delete(key);
    try {
      await persist();
    } catch (error) {
      addresses.set(key, previous);
      throw error;
    }
    return true;
  }

  function find(board: string, subject: string): NotificationAddress | null {
    const entry = addresses.get(keyOf(board, subject));
    return entry ? { ...entry, mandates: [...entry.mandates] } : null;
  }

  function holders(board: string, mandate: Mandate): string[] {
    return [...addresses.values()]
      .filter((entry) => entry.board === board && entry.mandates.includes(mandate))
      .map((entry) => entry.email);
  }

  return { save, remove, find, holders };
}

function keyOf(board: string, subject: string): string {
  return `${board}\n${subject}`;
}

async function readAddresses(path: string): Promise<NotificationAddress[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new Error(`Cannot read the notification address file "${path}"`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot read the notification address file "${path}": it is not JSON`, {
      cause: error,
    });
  }
  const parsed = AddressFile.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `Cannot read the notification address file "${path}": it is not a list of addresses (${
        parsed.error.issues[0]?.message ?? "unknown"
      })`,
    );
  }
  return parsed.data.addresses;
}
