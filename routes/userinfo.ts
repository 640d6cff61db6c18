/** The userinfo endpoint could not be asked or gave no usable answer. */
export class UserinfoUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UserinfoUnavailableError";
  }
}

const MAX_USERINFO_BYTES = 64 * 1024;
const TIMEOUT_MS = 5_000;

/**
 * Asks the broker's userinfo endpoint (OpenID Connect Core §5.3) for the
 * claims of a login, with the access token of the code exchange. Only a plain
 * JSON answer is read; a signed or encrypted answer (`application/jwt`) is
 * refused. Redirects are not followed.
 */
export async function fetchUserinfo(
  endpoint: string,
  accessToken: string,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new UserinfoUnavailableError(
      `Cannot ask the userinfo endpoint ${endpoint}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const text = await response.text();
  if (response.status !== 200) {
    throw new UserinfoUnavailableError(
      `Cannot read the userinfo of this login: ${endpoint} answered HTTP ${response.status}`,
    );
  }
  if (type !== "application/json") {
    throw new UserinfoUnavailableError(
      `Cannot read the userinfo of this login: ${endpoint} answered "${type.slice(0, 60)}", ` +
        "not application/json (signed or encrypted userinfo is not supported)",
    );
  }
  if (text.length > MAX_USERINFO_BYTES) {
    throw new UserinfoUnavailableError(
      `Cannot read the userinfo of this login: the answer is larger than ${MAX_USERINFO_BYTES} bytes`,
    );
  }
  return claimsOf(text, endpoint);
}

function claimsOf(text: string, endpoint: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserinfoUnavailableError(
      `Cannot read the userinfo of this login: ${endpoint} answered invalid JSON`,
      { cause: error },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserinfoUnavailableError(
      `Cannot read the userinfo of this login: ${endpoint} answered JSON that is not an object`,
    );
  }
  return value as Record<string, unknown>;
}
