import assert from "node:assert/strict";
import { BOARD, SUPPLIER, withService } from "./helpers/board_flow.ts";
import { supplierToken, type TestService } from "./helpers/service.ts";

async function call(
  service: TestService,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; allow: string | null; type: string; body: string }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}`, ...headers },
  });
  return {
    status: response.status,
    allow: response.headers.get("Allow"),
    type: response.headers.get("Content-Type") ?? "",
    body: await response.text(),
  };
}

function problemCode(body: string): string {
  return JSON.parse(body).type.replace("urn:akkoord:problem:", "");
}

Deno.test("API: a known path with another method is 405 with Allow, as a problem document", () =>
  withService(async (service) => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const answer = await call(service, method, "/api/v1/offers", {
        "Content-Type": "application/json",
      });
      assert.equal(answer.status, 405, `${method} /api/v1/offers`);
      assert.equal(answer.allow, "POST");
      assert.equal(answer.type, "application/problem+json");
      assert.equal(problemCode(answer.body), "method_not_allowed");
    }
    const noType = await call(service, "GET", "/api/v1/offers");
    assert.equal(noType.status, 405, "a GET without Content-Type is not 415");
    assert.equal(noType.allow, "POST");

    const list = await call(service, "POST", "/api/v1/agreements");
    assert.equal(list.status, 405);
    assert.equal(list.allow, "GET, HEAD");
    const one = await call(service, "DELETE", `/api/v1/agreements/${BOARD.id}`);
    assert.equal(one.status, 405);
    assert.equal(one.allow, "GET, HEAD");
    const withdraw = await call(service, "GET", `/api/v1/agreements/${BOARD.id}/withdraw`);
    assert.equal(withdraw.status, 405);
    assert.equal(withdraw.allow, "POST");
  }));

Deno.test("API: an unknown path under /api/ is 404 as a problem document, never the CSRF guard", () =>
  withService(async (service) => {
    for (
      const [method, path] of [
        ["GET", "/api/v1/nothing"],
        ["POST", "/api/v1/nothing"],
        ["POST", "/api/v2/offers"],
        ["DELETE", "/api/anything"],
      ]
    ) {
      const answer = await call(service, method!, path!);
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.type, "application/problem+json");
      assert.equal(problemCode(answer.body), "not_found");
    }
    const anonymous = await fetch(`${service.url}/api/v2/offers`, { method: "POST" });
    assert.equal(anonymous.status, 404);
    assert.equal(problemCode(await anonymous.text()), "not_found");
  }));
