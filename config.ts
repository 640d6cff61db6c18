import { z } from "zod";

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const kvkList = z.string().regex(
  /^\s*(\d{8}(\s*,\s*\d{8})*)?\s*$/,
  "a comma-separated list of 8-digit KvK numbers",
)
  .transform((v) => v.split(",").map((item) => item.trim()).filter(Boolean));
const url = z.url({ protocol: /^https?$/ }).transform((v) => v.replace(/\/+$/, ""));
const level = z.enum(["loa2", "loa2plus", "loa3", "loa4"]);
const claimName = z.string().trim().min(1);
// `value=loa3,other=loa4`; a value may itself hold "=", so the last one separates.
const assuranceAliases = z.string().transform((text, context) => {
  const aliases: Record<string, z.infer<typeof level>> = {};
  for (const item of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const at = item.lastIndexOf("=");
    const parsed = level.safeParse(item.slice(at + 1).trim());
    if (at <= 0 || !parsed.success) {
      context.addIssue({
        code: "custom",
        message: `"${item}" is not value=level with level loa2, loa2plus, loa3 or loa4`,
      });
      return z.NEVER;
    }
    aliases[item.slice(0, at).trim()] = parsed.data;
  }
  return aliases;
});

const mailAddress = String.raw`[^\s<>,;:"@]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`;
const mailFrom = z.string().trim().regex(
  new RegExp(String.raw`^(${mailAddress}|[^\u0000-\u001f<>,;:"@]+ <${mailAddress}>)$`),
  'one address, or a name without <>,;:" or line breaks followed by <address>',
);

/**
 * Every configuration variable, its default and its meaning. The README's
 * table is written from this list.
 */
const Schema = z.object({
  AKKOORD_MODE: z.enum(["development", "production"]).default("development"),
  AKKOORD_DATA_DIR: z.string().min(1).default("./data"),
  AKKOORD_STORE: z.enum(["disk", "kv"]).default("disk"),
  AKKOORD_KV_PATH: z.string().min(1).optional(),
  AKKOORD_SIGNING_KEY: z.string().min(1).optional(),
  AKKOORD_HOSTNAME: z.string().min(1).default("127.0.0.1"),
  AKKOORD_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  AKKOORD_PUBLIC_URL: url.optional(),
  AKKOORD_DEV_LOGIN: flag.optional(),
  AKKOORD_DEMO_DATA: flag.optional(),
  AKKOORD_OIDC_ISSUER: url.optional(),
  AKKOORD_OIDC_CLIENT_ID: z.string().min(1).default("akkoord"),
  AKKOORD_OIDC_JWKS_URL: url.optional(),
  AKKOORD_MIN_ASSURANCE: level.default("loa3"),
  AKKOORD_OIDC_USERINFO: flag.optional(),
  AKKOORD_ASSURANCE_ALIASES: assuranceAliases.optional(),
  AKKOORD_CLAIM_ORGANISATION: claimName.default("urn:etoegang:core:LegalSubjectID"),
  AKKOORD_CLAIM_ORGANISATION_TYPE: claimName.default("namequalifier"),
  AKKOORD_CLAIM_ACTING_SUBJECT: claimName.default("urn:etoegang:core:ActingSubjectID"),
  AKKOORD_CLAIM_NAME: claimName.default("name"),
  AKKOORD_CLAIM_ASSURANCE: claimName.default("acr"),
  AKKOORD_CLAIM_SERVICE_IDS: claimName.default("urn:etoegang:core:ServiceID"),
  AKKOORD_SESSION_SECRET: z.string().min(32).optional(),
  AKKOORD_SERVICE_BEOORDELEN: z.string().min(1).default(
    "urn:etoegang:DV:00000000000000000000:services:1",
  ),
  AKKOORD_SERVICE_ONDERTEKENEN: z.string().min(1).default(
    "urn:etoegang:DV:00000000000000000000:services:2",
  ),
  AKKOORD_SERVICE_LEVERANCIER: z.string().min(1).default(
    "urn:etoegang:DV:00000000000000000000:services:3",
  ),
  AKKOORD_SERVICE_BEHEER: z.string().min(1).default(
    "urn:etoegang:DV:00000000000000000000:services:4",
  ),
  AKKOORD_ADMIN_ORGANISATIONS: kvkList.optional(),
  AKKOORD_AUDITOR_ORGANISATIONS: kvkList.optional(),
  AKKOORD_SERVICE_AUDIT: z.string().min(1).default(
    "urn:etoegang:DV:00000000000000000000:services:5",
  ),
  AKKOORD_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  AKKOORD_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(7 * 24).default(8),
  AKKOORD_RATE_LIMIT_LOGIN_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  AKKOORD_RATE_LIMIT_TOKEN_PER_MINUTE: z.coerce.number().int().min(1).default(300),
  AKKOORD_REMINDER_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  AKKOORD_ESCALATION_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  AKKOORD_INVITES_PER_DAY: z.coerce.number().int().min(1).max(1000).default(10),
  RESEND_API_KEY: z.string().trim().min(1).optional(),
  AKKOORD_MAIL_FROM: mailFrom.optional(),
  AKKOORD_RESEND_URL: url.optional(),
  AKKOORD_MAIL_DIGEST: z.enum(["off", "daily"]).default("off"),
});

/** The demo organisation that runs the service, for admins and auditors in development. */
export const DEMO_OPERATOR_KVK = "99000000";

/** The service's configuration, read once at start-up. */
export interface Config {
  mode: "development" | "production";
  dataDir: string;
  /**
   * Where the history lives: the bare repository in the data directory, or
   * Deno KV, signed with the key from AKKOORD_SIGNING_KEY. A null `kvPath`
   * opens the deployment's own database (Deno Deploy). A null `signingKey`
   * (development only) means a key generated once and kept in the database.
   */
  store: { kind: "disk" } | { kind: "kv"; kvPath: string | null; signingKey: string | null };
  hostname: string;
  port: number;
  publicUrl: string;
  devLogin: boolean;
  demoData: boolean;
  oidc: {
    issuer: string;
    clientId: string;
    jwksUrl: string;
    minAssurance: "loa2" | "loa2plus" | "loa3" | "loa4";
    /** `always`: read userinfo at every login; else only when the ID token lacks claims. */
    userinfo: "always" | "when_needed";
    /** Broker-specific assurance values and the level each means. */
    assuranceAliases: Record<string, "loa2" | "loa2plus" | "loa3" | "loa4">;
    /** The top-level claim holding each fact; names with dots are read literally. */
    claims: {
      organisation: string;
      organisationType: string;
      actingSubject: string;
      name: string;
      assurance: string;
      serviceIds: string;
    };
  };
  /** KvK numbers whose people may be admin or auditor (with the ServiceID for it). */
  operators: { admin: string[]; auditor: string[] };
  /**
   * Null in development: a secret is then created in the data directory, or
   * with AKKOORD_STORE=kv in the database.
   */
  sessionSecret: string | null;
  /** When a browser session ends: idle for `idleMinutes`, or `maxHours` after login. */
  session: { idleMinutes: number; maxHours: number };
  /** Requests per minute per client address at the login and token endpoints. */
  rateLimits: { loginPerMinute: number; tokenPerMinute: number };
  /** Days an agreement waits on a board before its contact is reminded, and before escalation. */
  reminders: { reminderDays: number; escalationDays: number };
  /** Invitations to suppliers a board may send per Europe/Amsterdam day. */
  invitesPerDay: number;
  /**
   * Mail goes through Resend when `resend` is set, else only to the local
   * outbox; `daily` bundles a board's mails into one digest per day.
   */
  mail: {
    resend: { apiKey: string; from: string; baseUrl: string | undefined } | null;
    digest: "off" | "daily";
  };
  services: {
    beoordelen: string;
    ondertekenen: string;
    leverancier: string;
    beheer: string;
    audit: string;
  };
}

/** A configuration that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Reads and checks the configuration from environment variables. */
export function readConfig(env: Record<string, string | undefined>): Config {
  const parsed = Schema.safeParse(pickDefined(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `Configuration variable ${String(issue.path[0])} is not valid: ${issue.message}`,
    );
  }
  const v = parsed.data;
  const production = v.AKKOORD_MODE === "production";
  const devLogin = v.AKKOORD_DEV_LOGIN ?? !production;
  const demoData = v.AKKOORD_DEMO_DATA ?? !production;
  if (production && devLogin) {
    throw new ConfigError("AKKOORD_DEV_LOGIN must be false when AKKOORD_MODE is production");
  }
  if (production && demoData) {
    throw new ConfigError("AKKOORD_DEMO_DATA must be false when AKKOORD_MODE is production");
  }
  if (production && !v.AKKOORD_SESSION_SECRET) {
    throw new ConfigError(
      "AKKOORD_SESSION_SECRET (32 characters or more) is required in production",
    );
  }
  if (production && !v.AKKOORD_PUBLIC_URL?.startsWith("https://")) {
    throw new ConfigError("AKKOORD_PUBLIC_URL must be an https:// address in production");
  }
  if (v.RESEND_API_KEY && !v.AKKOORD_MAIL_FROM) {
    throw new ConfigError("AKKOORD_MAIL_FROM (the sender address) is required with RESEND_API_KEY");
  }
  if (v.AKKOORD_ESCALATION_DAYS <= v.AKKOORD_REMINDER_DAYS) {
    throw new ConfigError(
      `AKKOORD_ESCALATION_DAYS (${v.AKKOORD_ESCALATION_DAYS}) must be more than AKKOORD_REMINDER_DAYS (${v.AKKOORD_REMINDER_DAYS})`,
    );
  }
  const publicUrl = v.AKKOORD_PUBLIC_URL ?? `http://127.0.0.1:${v.AKKOORD_PORT}`;
  const issuer = v.AKKOORD_OIDC_ISSUER ?? (devLogin ? `${publicUrl}/dev-broker` : undefined);
  if (!issuer) {
    throw new ConfigError("AKKOORD_OIDC_ISSUER is required when AKKOORD_DEV_LOGIN is false");
  }
  return {
    mode: v.AKKOORD_MODE,
    dataDir: v.AKKOORD_DATA_DIR,
    store: historyStore(v, env),
    hostname: v.AKKOORD_HOSTNAME,
    port: v.AKKOORD_PORT,
    publicUrl,
    devLogin,
    demoData,
    oidc: {
      issuer,
      clientId: v.AKKOORD_OIDC_CLIENT_ID,
      jwksUrl: v.AKKOORD_OIDC_JWKS_URL ?? `${issuer}/jwks`,
      minAssurance: v.AKKOORD_MIN_ASSURANCE,
      userinfo: v.AKKOORD_OIDC_USERINFO ? "always" : "when_needed",
      assuranceAliases: v.AKKOORD_ASSURANCE_ALIASES ?? {},
      claims: {
        organisation: v.AKKOORD_CLAIM_ORGANISATION,
        organisationType: v.AKKOORD_CLAIM_ORGANISATION_TYPE,
        actingSubject: v.AKKOORD_CLAIM_ACTING_SUBJECT,
        name: v.AKKOORD_CLAIM_NAME,
        assurance: v.AKKOORD_CLAIM_ASSURANCE,
        serviceIds: v.AKKOORD_CLAIM_SERVICE_IDS,
      },
    },
    operators: {
      admin: v.AKKOORD_ADMIN_ORGANISATIONS ?? (devLogin ? [DEMO_OPERATOR_KVK] : []),
      auditor: v.AKKOORD_AUDITOR_ORGANISATIONS ?? (devLogin ? [DEMO_OPERATOR_KVK] : []),
    },
    sessionSecret: v.AKKOORD_SESSION_SECRET ?? null,
    session: {
      idleMinutes: v.AKKOORD_SESSION_IDLE_MINUTES,
      maxHours: v.AKKOORD_SESSION_MAX_HOURS,
    },
    rateLimits: {
      loginPerMinute: v.AKKOORD_RATE_LIMIT_LOGIN_PER_MINUTE,
      tokenPerMinute: v.AKKOORD_RATE_LIMIT_TOKEN_PER_MINUTE,
    },
    reminders: {
      reminderDays: v.AKKOORD_REMINDER_DAYS,
      escalationDays: v.AKKOORD_ESCALATION_DAYS,
    },
    invitesPerDay: v.AKKOORD_INVITES_PER_DAY,
    mail: {
      resend: v.RESEND_API_KEY && v.AKKOORD_MAIL_FROM
        ? { apiKey: v.RESEND_API_KEY, from: v.AKKOORD_MAIL_FROM, baseUrl: v.AKKOORD_RESEND_URL }
        : null,
      digest: v.AKKOORD_MAIL_DIGEST,
    },
    services: {
      beoordelen: v.AKKOORD_SERVICE_BEOORDELEN,
      ondertekenen: v.AKKOORD_SERVICE_ONDERTEKENEN,
      leverancier: v.AKKOORD_SERVICE_LEVERANCIER,
      beheer: v.AKKOORD_SERVICE_BEHEER,
      audit: v.AKKOORD_SERVICE_AUDIT,
    },
  };
}

function historyStore(
  v: z.infer<typeof Schema>,
  env: Record<string, string | undefined>,
): Config["store"] {
  if (v.AKKOORD_STORE === "disk") {
    if (v.AKKOORD_SIGNING_KEY === undefined) return { kind: "disk" };
    throw new ConfigError(
      "AKKOORD_SIGNING_KEY is only read when AKKOORD_STORE is kv; " +
        "the disk store keeps its key in the data directory's signing_key file",
    );
  }
  if (v.AKKOORD_SIGNING_KEY === undefined && v.AKKOORD_MODE === "production") {
    throw new ConfigError(
      "AKKOORD_SIGNING_KEY (an unencrypted OpenSSH Ed25519 private key) is required " +
        "in production when AKKOORD_STORE is kv",
    );
  }
  const deployed = (env.DENO_DEPLOYMENT_ID ?? "") !== "";
  return {
    kind: "kv",
    kvPath: v.AKKOORD_KV_PATH ?? (deployed ? null : `${v.AKKOORD_DATA_DIR}/history.kv`),
    signingKey: v.AKKOORD_SIGNING_KEY ?? null,
  };
}

function pickDefined(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(Schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") out[key] = value;
  }
  return out;
}
