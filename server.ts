import { type Config, DEMO_OPERATOR_KVK, readConfig } from "./config.ts";
import { loadDemoData } from "./demo_data.ts";
import type { Principal } from "./domain/actor.ts";
import { describeRepository, HISTORY_README_PATH } from "./domain/history_readme.ts";
import { digestMail, type Mail, mailsForCommit } from "./domain/mail.ts";
import { stateProjection } from "./domain/projection.ts";
import { createApp } from "./routes/app.ts";
import { createAuthRoutes } from "./routes/auth_routes.ts";
import { createDevBroker } from "./routes/dev_broker.ts";
import { IdempotencyIndex } from "./routes/idempotency.ts";
import { type RouteEntry, routeList } from "./routes/route_list.ts";
import { createSessions, parseSessionPrincipal } from "./routes/session.ts";
import { createTokenVerifier } from "./routes/token_verifier.ts";
import { openDiskStore } from "./store/disk_store.ts";
import type { PackLog } from "./store/pack_log.ts";
import { openPackLogFile, packLogPath } from "./store/pack_log_file.ts";
import { openDatabase } from "./store/kv_open.ts";
import { openKvStore } from "./store/kv_store.ts";
import { generateSigningKey, importOpenSshKey } from "./store/signing_key.ts";
import type { HistoryStore, Identity } from "./store/history.ts";
import type { State } from "./domain/state.ts";
import type { OfferResult } from "./domain/offer_agreement.ts";
import { IDEMPOTENCY_WINDOW_MS } from "./routes/idempotency.ts";
import { type AccessTokens, openAccessTokens } from "./store/access_tokens.ts";
import { openKvAccessTokens } from "./store/kv_access_tokens.ts";
import { openKvNotificationAddresses } from "./store/kv_notification_addresses.ts";
import { kvOutboxStorage } from "./store/kv_outbox.ts";
import { openKvSessionRecords } from "./store/kv_sessions.ts";
import { loadOrCreateKvSecret } from "./store/kv_secrets.ts";
import { kvIdempotencyKeys } from "./store/kv_idempotency_keys.ts";
import { createKvJtiReplayCache } from "./store/kv_jti_replay_cache.ts";
import {
  type NotificationAddresses,
  openNotificationAddresses,
} from "./store/notification_addresses.ts";
import { type ReminderScheduler, startReminderScheduler } from "./routes/reminder_scheduler.ts";
import {
  type DigestBucket,
  openOutbox,
  openOutboxIn,
  type Outbox,
  type OutboxSettings,
} from "./store/outbox.ts";
import { createResendSender } from "./store/resend_sender.ts";
import { mailHtml } from "./views/mail_html.ts";
import { openSessionRecords, type SessionRecords } from "./store/session_records.ts";
import { loadOrCreateSecretFile, randomSecret } from "./store/secret_file.ts";

/** A running Akkoord service. */
export interface Server {
  /** Where it listens, e.g. `http://127.0.0.1:8000`. */
  url: string;
  config: Config;
  /** Every route the app answers (method and path pattern), middleware left out. */
  routes: RouteEntry[];
  /** Appends due reminders and escalations on start, every hour, and when asked. */
  reminders: ReminderScheduler;
  close(): Promise<void>;
}

/** The service as the history records it: the committer of every commit. */
export const COMMITTER = { name: "Akkoord", email: "history@akkoord.invalid" };

/**
 * Opens the history, builds the app and serves it. With port 0 a free port
 * is chosen; the public URL then follows the port unless configured.
 */
export async function startServer(
  env: Record<string, string | undefined>,
  options: {
    now?: () => Date;
    log?: (line: Record<string, unknown>) => void;
    /** Time between runs of the reminder scheduler; an hour by default. */
    reminderIntervalMs?: number;
  } = {},
): Promise<Server> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? writeLogLine;
  let handler: (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response> = () => new Response("Starting", { status: 503 });
  const preliminary = readConfig(env);
  const history = { projection: stateProjection, committer: COMMITTER };
  // With AKKOORD_STORE=kv one database holds everything: history, sessions,
  // tokens, outbox, idempotency keys, seen assertion ids and development secrets.
  const kv = preliminary.store.kind === "kv" ? await openDatabase(preliminary.store.kvPath) : null;
  const closeKv = () => kv?.close();
  let store: HistoryStore<State>;
  let listener: Deno.HttpServer<Deno.NetAddr>;
  try {
    store = kv && preliminary.store.kind === "kv"
      ? await openKvHistoryIn(kv, preliminary.store.signingKey, history)
      : await openDiskStore({ ...history, dir: preliminary.dataDir });
  } catch (error) {
    closeKv();
    throw error;
  }
  try {
    listener = Deno.serve({
      hostname: preliminary.hostname,
      port: preliminary.port,
      onListen: () => {},
    }, (request, info) => handler(request, info));
  } catch (error) {
    await store.close();
    closeKv();
    throw error;
  }
  const port = listener.addr.port;
  const config = readConfig({ AKKOORD_PORT: String(port), ...env, ...portOverride(env, port) });
  let sessionRecords: SessionRecords<Principal> | undefined;
  let outbox: Outbox | undefined;
  let routes: RouteEntry[] = [];
  let reminders: ReminderScheduler | undefined;
  let packLog: PackLog | undefined;
  const closers: Array<() => Promise<void>> = [];

  try {
    const head = store.head();
    const readme = head === null ? null : await store.readFile(head, HISTORY_README_PATH);
    await store.transact(() => describeRepository({ readme }, now()));
    if (config.demoData) await loadDemoData(store, now);
    const notificationAddresses: NotificationAddresses = kv
      ? closing(closers, await openKvNotificationAddresses({ kv, now }))
      : await openNotificationAddresses({
        path: `${config.dataDir}/notification_addresses.json`,
        now,
      });
    const outboxSettings: OutboxSettings<State, Mail & { html: string }> = {
      store,
      compose: (commit, state) =>
        mailsForCommit(commit, state, config.publicUrl, notificationAddresses.holders).map(
          withHtml,
        ),
      ...(config.mail.resend ? { sender: createResendSender(config.mail.resend) } : {}),
      ...(config.mail.digest === "daily"
        ? {
          digest: (bucket: DigestBucket<Mail & { html: string }>) => withHtml(digestMail(bucket)),
        }
        : {}),
      now,
    };
    outbox = kv
      ? await openOutboxIn(kvOutboxStorage<Mail & { html: string }>(kv), outboxSettings)
      : await openOutbox({ dir: `${config.dataDir}/outbox`, ...outboxSettings });
    const idempotency = await IdempotencyIndex.open(
      store,
      now,
      kv ? kvIdempotencyKeys<OfferResult>(kv, IDEMPOTENCY_WINDOW_MS) : undefined,
    );
    const accessTokens: AccessTokens = kv
      ? closing(closers, await openKvAccessTokens({ kv, now }))
      : await openAccessTokens({ path: `${config.dataDir}/access_tokens.json`, now });
    const secret = config.sessionSecret ??
      (kv
        ? await loadOrCreateKvSecret(kv, "session_secret", randomSecret)
        : await loadOrCreateSecretFile(`${config.dataDir}/session_secret`, randomSecret));
    const onWriteError = (error: Error) =>
      log({ level: "error", error: `${error.name}: ${error.message}` });
    sessionRecords = kv
      ? openKvSessionRecords({ kv, parsePrincipal: parseSessionPrincipal, now, onWriteError })
      : await openSessionRecords({
        path: `${config.dataDir}/sessions.json`,
        parsePrincipal: parseSessionPrincipal,
        now,
        onWriteError,
      });
    const sessions = createSessions({
      secret,
      secure: config.publicUrl.startsWith("https://"),
      records: sessionRecords,
      idleSeconds: config.session.idleMinutes * 60,
      maxAgeSeconds: config.session.maxHours * 60 * 60,
      now,
    });
    const verifier = createTokenVerifier({
      issuer: config.oidc.issuer,
      audience: config.oidc.clientId,
      jwksUrl: new URL(config.oidc.jwksUrl),
      minAssurance: config.oidc.minAssurance,
      claims: config.oidc.claims,
      assuranceAliases: config.oidc.assuranceAliases,
      userinfo: config.oidc.userinfo,
      services: config.services,
      operators: config.operators,
      currentDate: now,
    });
    const devBroker = config.devLogin
      ? await createDevBroker({
        issuer: config.oidc.issuer,
        audience: config.oidc.clientId,
        services: config.services,
        persistKey: (create) =>
          kv
            ? loadOrCreateKvSecret(kv, "dev_broker_key", create)
            : loadOrCreateSecretFile(`${config.dataDir}/dev_broker_key.json`, create),
        organisations: () => [
          ...[...store.state.boards.values()].map((b) => ({
            kvk: b.kvk,
            name: b.name,
            kind: "board" as const,
          })),
          ...[...store.state.suppliers.values()].map((s) => ({
            kvk: s.id,
            name: s.name,
            kind: "supplier" as const,
          })),
          { kvk: DEMO_OPERATOR_KVK, name: "Akkoord-beheer (demo)", kind: "operator" as const },
        ],
      })
      : undefined;
    // Prepared pack entries are derived data kept beside the disk history;
    // the KV store has no local disk, so it keeps them in memory.
    if (preliminary.store.kind !== "kv") {
      packLog = await openPackLogFile(packLogPath(preliminary.dataDir));
    }
    const app = createApp({
      services: { store, outbox, now, verifyToken: (token) => verifier.verify(token) },
      sessions,
      idempotency,
      publicUrl: config.publicUrl,
      auth: createAuthRoutes({
        verifier,
        sessions,
        brokerIssuer: config.oidc.issuer,
        clientId: config.oidc.clientId,
        redirectUri: `${config.publicUrl}/auth/callback`,
      }),
      ...(devBroker ? { devBroker: devBroker.app } : {}),
      showOutbox: config.mode === "development",
      accessTokens,
      notificationAddresses,
      ...(packLog ? { packLog } : {}),
      ...(kv ? { jtiReplay: createKvJtiReplayCache(kv) } : {}),
      log,
      rateLimits: config.rateLimits,
      invitesPerDay: config.invitesPerDay,
    });
    handler = app.fetch;
    routes = routeList(app);
    reminders = startReminderScheduler({
      store,
      policy: config.reminders,
      now,
      ...(options.reminderIntervalMs ? { intervalMs: options.reminderIntervalMs } : {}),
      onError: (error) =>
        log({
          level: "error",
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
    });
  } catch (error) {
    await reminders?.stop();
    await listener.shutdown();
    await outbox?.close();
    await sessionRecords?.close();
    await store.close();
    await packLog?.close();
    for (const close of closers) await close();
    closeKv();
    throw error;
  }

  return {
    url: `http://${config.hostname}:${port}`,
    config,
    routes,
    reminders,
    async close() {
      await reminders.stop();
      await listener.shutdown();
      await outbox?.close();
      await sessionRecords?.close();
      await store.close();
      await packLog?.close();
      for (const close of closers) await close();
      closeKv();
    },
  };
}

/**
 * Opens the history in `kv`, signed with the configured key or, in
 * development without one, with a key generated once and kept in `kv`.
 */
async function openKvHistoryIn(
  kv: Deno.Kv,
  configuredKey: string | null,
  history: { projection: typeof stateProjection; committer: Identity },
): Promise<HistoryStore<State>> {
  const text = configuredKey ??
    await loadOrCreateKvSecret(kv, "signing_key", async () => (await generateSigningKey()).file);
  const source = configuredKey === null
    ? "the development signing key kept in Deno KV"
    : "AKKOORD_SIGNING_KEY";
  const signingKey = await importOpenSshKey(source, text.replaceAll("\\n", "\n"));
  return await openKvStore({ ...history, kv, signingKey });
}

/** Adds `resource`'s close to `closers` and returns it. */
function closing<T extends { close(): Promise<void> }>(
  closers: Array<() => Promise<void>>,
  resource: T,
): T {
  closers.push(() => resource.close());
  return resource;
}

function withHtml(mail: Mail): Mail & { html: string } {
  return { ...mail, html: mailHtml(mail.content, mail.subject) };
}

function portOverride(env: Record<string, string | undefined>, port: number) {
  return env.AKKOORD_PORT === "0" ? { AKKOORD_PORT: String(port) } : {};
}

function writeLogLine(line: Record<string, unknown>): void {
  const text = JSON.stringify({ time: new Date().toISOString(), ...line }) + "\n";
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}
