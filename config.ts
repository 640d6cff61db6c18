import { z } from "zod";

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const kvkList = z.string().regex(
  /^\s*(\d{8}(\s*,\s*\d{8})*)?\s*$/,
  "a comma-separated list of 8-digit KvK numbers",
)
  .transform((v) => v.split(",").map((item) => item.trim()).filter(Boolean));
const url = z.url({ protocol: /^https?$/ }).transform((v) => v.replace(/\/+$/, ""));

/**
 * Every configuration variable, its default and its meaning. The README's
 * table is written from this list.
 */
const Schema = z.object({
  AKKOORD_MODE: z.enum(["development", "production"]).default("development"),
  AKKOORD_DATA_DIR: z.string().min(1).default("./data"),
  AKKOORD_HOSTNAME: z.string().min(1).default("127.0.0.1"),
  AKKOORD_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  AKKOORD_PUBLIC_URL: url.optional(),
  AKKOORD_DEV_LOGIN: flag.optional(),
  AKKOORD_DEMO_DATA: flag.optional(),
  AKKOORD_OIDC_ISSUER: url.optional(),
  AKKOORD_OIDC_CLIENT_ID: z.string().min(1).default("akkoord"),
  AKKOORD_OIDC_JWKS_URL: url.optional(),
  AKKOORD_MIN_ASSURANCE: z.enum(["loa2", "loa2plus", "loa3", "loa4"]).default("loa3"),
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
});

/** The demo organisation that runs the service, for admins and auditors in development. */
export const DEMO_OPERATOR_KVK = "99000000";

/** The service's configuration, read once at start-up. */
export interface Config {
  mode: "development" | "production";
  dataDir: string;
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
  };
  /** KvK numbers whose people may be admin or auditor (with the ServiceID for it). */
  operators: { admin: string[]; auditor: string[] };
  /** Null in development: a secret is then created in the data directory. */
  sessionSecret: string | null;
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
  const publicUrl = v.AKKOORD_PUBLIC_URL ?? `http://127.0.0.1:${v.AKKOORD_PORT}`;
  const issuer = v.AKKOORD_OIDC_ISSUER ?? (devLogin ? `${publicUrl}/dev-broker` : undefined);
  if (!issuer) {
    throw new ConfigError("AKKOORD_OIDC_ISSUER is required when AKKOORD_DEV_LOGIN is false");
  }
  return {
    mode: v.AKKOORD_MODE,
    dataDir: v.AKKOORD_DATA_DIR,
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
    },
    operators: {
      admin: v.AKKOORD_ADMIN_ORGANISATIONS ?? (devLogin ? [DEMO_OPERATOR_KVK] : []),
      auditor: v.AKKOORD_AUDITOR_ORGANISATIONS ?? (devLogin ? [DEMO_OPERATOR_KVK] : []),
    },
    sessionSecret: v.AKKOORD_SESSION_SECRET ?? null,
    services: {
      beoordelen: v.AKKOORD_SERVICE_BEOORDELEN,
      ondertekenen: v.AKKOORD_SERVICE_ONDERTEKENEN,
      leverancier: v.AKKOORD_SERVICE_LEVERANCIER,
      beheer: v.AKKOORD_SERVICE_BEHEER,
      audit: v.AKKOORD_SERVICE_AUDIT,
    },
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
