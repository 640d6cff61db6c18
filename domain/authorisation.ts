import type { Principal } from "./actor.ts";
import type { KvkNumber, SupplierId } from "./ids.ts";

/** A role a person holds, read from the verified login; one person may hold several. */
export type Role = "reviewer" | "signatory" | "supplier" | "admin" | "auditor";

/**
 * Where a grant applies: `own-board` only to the board whose KvK number is
 * the person's organisation, `own-supplier` only to the supplier that is the
 * person's organisation, `any` to every target.
 */
export type Scope = "own-board" | "own-supplier" | "any";

/** Holders of one of `roles` may act, on targets within `scope`. */
export interface Grant {
  roles: readonly Role[];
  scope: Scope;
}

/** What an action is aimed at: the service as a whole, one board, or one supplier. */
export type TargetKind = "service" | "board" | "supplier";

/** Who may do one action. */
export interface ActionRule {
  /** What the action does, in a few words. */
  does: string;
  target: TargetKind;
  /** `anyone`: no login needed. Otherwise a login holding one of the grants. */
  allow: "anyone" | readonly Grant[];
  /** The action exists only in development mode. */
  developmentOnly?: true;
}

const BOARD_PEOPLE: Grant = { roles: ["reviewer", "signatory"], scope: "own-board" };
const ANY_FOR_ADMIN: Grant = { roles: ["admin"], scope: "any" };
const OWN_SUPPLIER: Grant = { roles: ["supplier"], scope: "own-supplier" };

/**
 * The one table of who may do what. Routes and domain decisions both ask
 * {@link authorise}; checks that depend on the state of an agreement (terms
 * accepted, the version shown is current) stay in the domain decisions.
 */
export const AUTHORISATION = {
  "board.read": {
    does: "see a board's overview of agreements",
    target: "board",
    allow: [BOARD_PEOPLE, ANY_FOR_ADMIN],
  },
  "board.accept_terms": {
    does: "accept the terms of use for a board",
    target: "board",
    allow: [BOARD_PEOPLE],
  },
  "agreement.read": {
    does: "read a board's agreement: text, privacybijsluiters, history",
    target: "board",
    allow: [BOARD_PEOPLE, ANY_FOR_ADMIN],
  },
  "agreement.download": {
    does: "download a version of a board's agreement as PDF, with evidence",
    target: "board",
    allow: [BOARD_PEOPLE, ANY_FOR_ADMIN],
  },
  "agreement.approve": {
    does: "approve the version that waits for review",
    target: "board",
    allow: [{ roles: ["reviewer"], scope: "own-board" }],
  },
  "agreement.reject": {
    does: "reject the version that waits, with a reason",
    target: "board",
    allow: [{ roles: ["reviewer"], scope: "own-board" }],
  },
  "agreement.sign": {
    does: "sign the approved version (and see its confirmation page)",
    target: "board",
    allow: [{ roles: ["signatory"], scope: "own-board" }],
  },
  "supplier.invite": {
    does: "invite a supplier that is not on Akkoord yet, on the board's behalf",
    target: "board",
    allow: [BOARD_PEOPLE],
  },
  "notifications.manage": {
    does: "register or remove one's own notification address for a board",
    target: "board",
    allow: [BOARD_PEOPLE],
  },
  "supplier.read": {
    does: "see a supplier's overview of agreements",
    target: "supplier",
    allow: [OWN_SUPPLIER, ANY_FOR_ADMIN],
  },
  "offer.create": {
    does: "offer an agreement or a new version of it",
    target: "supplier",
    allow: [OWN_SUPPLIER],
  },
  "agreement.withdraw": {
    does: "withdraw a version that was not signed",
    target: "supplier",
    allow: [OWN_SUPPLIER],
  },
  "agreement.read_as_supplier": {
    does: "read the status of the supplier's own agreements (API)",
    target: "supplier",
    allow: [OWN_SUPPLIER],
  },
  "supplier_keys.manage": {
    does: "register and revoke the supplier's API keys (not with an API key)",
    target: "supplier",
    allow: [OWN_SUPPLIER],
  },
  "admin.read": {
    does: "see the overview of every board",
    target: "service",
    allow: [ANY_FOR_ADMIN],
  },
  "registry.manage": {
    does: "register school boards and their contact addresses from a CSV file",
    target: "service",
    allow: [ANY_FOR_ADMIN],
  },
  "tokens.manage": {
    does: "create and revoke one's own personal access tokens",
    target: "service",
    allow: [{ roles: ["auditor", "admin"], scope: "any" }],
  },
  "history.clone": {
    does: "clone the full history over HTTP",
    target: "service",
    allow: [{ roles: ["auditor", "admin"], scope: "any" }],
  },
  "outbox.read": {
    does: "read the local mail outbox",
    target: "service",
    allow: "anyone",
    developmentOnly: true,
  },
} as const satisfies Record<string, ActionRule>;

/** Every action the service knows; a closed set. */
export type Action = keyof typeof AUTHORISATION;

/** The actions, in the table's order. */
export const ACTIONS = Object.keys(AUTHORISATION) as Action[];

/** What an action is done to. */
export type Target =
  | { kind: "service" }
  | { kind: "board"; kvk: KvkNumber }
  | { kind: "supplier"; id: SupplierId };

/** The target kind that `action` takes. */
export type TargetOf<A extends Action> = Extract<
  Target,
  { kind: (typeof AUTHORISATION)[A]["target"] }
>;

/** The outcome of {@link authorise}: 401 without a login, 403 with the wrong one. */
export type Authorisation =
  | { allowed: true }
  | { allowed: false; status: 401 | 403; reason: string };

/** The target of actions on the service as a whole. */
export const SERVICE: { kind: "service" } = { kind: "service" };

/** The target of actions on one board, found by its KvK number. */
export function boardTarget(board: { kvk: KvkNumber }): { kind: "board"; kvk: KvkNumber } {
  return { kind: "board", kvk: board.kvk };
}

/** The target of actions on one supplier. */
export function supplierTarget(supplier: SupplierId): { kind: "supplier"; id: SupplierId } {
  return { kind: "supplier", id: supplier };
}

/** The rule of one action. */
export function ruleOf(action: Action): ActionRule {
  return AUTHORISATION[action];
}

/** Decides whether `principal` (null: nobody logged in) may do `action` on `target`. */
export function authorise<A extends Action>(
  principal: Principal | null,
  action: A,
  target: TargetOf<A>,
): Authorisation {
  const rule = ruleOf(action);
  if (rule.allow === "anyone") return { allowed: true };
  if (principal === null) {
    return { allowed: false, status: 401, reason: `Cannot do "${action}": nobody is logged in` };
  }
  if (rule.allow.some((grant) => grants(grant, principal, target))) return { allowed: true };
  return { allowed: false, status: 403, reason: refusal(action, rule.allow, principal, target) };
}

/** The roles a principal holds. */
export function rolesOf(principal: Principal): Role[] {
  const roles: Role[] = [];
  if (principal.mandates.includes("beoordelen")) roles.push("reviewer");
  if (principal.mandates.includes("ondertekenen")) roles.push("signatory");
  if (principal.supplier) roles.push("supplier");
  if (principal.admin) roles.push("admin");
  if (principal.auditor) roles.push("auditor");
  return roles;
}

function grants(grant: Grant, principal: Principal, target: Target): boolean {
  const held = rolesOf(principal);
  return grant.roles.some((role) => held.includes(role)) &&
    inScope(grant.scope, principal, target);
}

function inScope(scope: Scope, principal: Principal, target: Target): boolean {
  switch (scope) {
    case "any":
      return true;
    case "own-board":
      return target.kind === "board" && target.kvk === principal.organisation;
    case "own-supplier":
      return target.kind === "supplier" && target.id === principal.organisation;
  }
}

function refusal(
  action: Action,
  allow: readonly Grant[],
  principal: Principal,
  target: Target,
): string {
  const needed = allow.map((grant) => `${grant.roles.join(" or ")} (${grant.scope})`).join("; ");
  const held = rolesOf(principal).join(", ") || "no role";
  return `Cannot do "${action}" on ${describe(target)}: it needs ${needed}; ` +
    `the login acts for KvK ${principal.organisation} with ${held}`;
}

function describe(target: Target): string {
  switch (target.kind) {
    case "service":
      return "the service";
    case "board":
      return `the board of KvK "${target.kvk}"`;
    case "supplier":
      return `supplier "${target.id}"`;
  }
}
