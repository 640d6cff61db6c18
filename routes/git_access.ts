import type { Context } from "hono";
import type { Principal } from "../domain/actor.ts";
import { authorise, SERVICE } from "../domain/authorisation.ts";
import type { AccessToken, AccessTokens } from "../store/access_tokens.ts";

/**
 * Decides who may fetch the history over Git's smart HTTP protocol: a request
 * whose `Authorization: Basic` password (RFC 7617) is an unexpired personal
 * access token whose roles the authorisation table lets do "history.clone".
 * The user name is ignored, so stock git works with any name it is given.
 * Each accepted use is noted on the token.
 */
export function createGitAuthenticator(tokens: AccessTokens): (c: Context) => Promise<boolean> {
  return async (c) => {
    const password = basicPassword(c.req.header("authorization"));
    if (password === undefined) return false;
    const token = await tokens.verify(password);
    if (token === null) return false;
    if (!authorise(tokenPrincipal(token), "history.clone", SERVICE).allowed) return false;
    await tokens.recordUse(token.id);
    return true;
  };
}

/** The person a token acts for, with the roles it carries and no other. */
function tokenPrincipal(token: AccessToken): Principal {
  return {
    subject: token.ownerSubject,
    name: token.ownerName,
    organisation: token.organisation,
    assurance: "access-token",
    mandates: [],
    supplier: false,
    admin: token.roles.includes("admin"),
    auditor: token.roles.includes("auditor"),
  };
}

/** The password of a Basic `Authorization` header, or undefined when there is none. */
export function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? "");
  if (!match?.[1]) return undefined;
  const credentials = decodeBase64(match[1]);
  if (credentials === undefined) return undefined;
  const colon = credentials.indexOf(":");
  return colon === -1 ? undefined : credentials.slice(colon + 1);
}

function decodeBase64(text: string): string | undefined {
  try {
    const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
