import type { Env, Hono } from "hono";
import { inspectRoutes } from "hono/dev";

/** One route an app answers: its method (`ALL` for any) and its path pattern. */
export interface RouteEntry {
  method: string;
  path: string;
}

/** The routes an app registered, each once, in registration order; middleware left out. */
export function routeList<E extends Env>(app: Hono<E>): RouteEntry[] {
  const seen = new Set<string>();
  const routes: RouteEntry[] = [];
  for (const route of inspectRoutes(app)) {
    const key = `${route.method} ${route.path}`;
    if (route.isMiddleware || seen.has(key)) continue;
    seen.add(key);
    routes.push({ method: route.method, path: route.path });
  }
  return routes;
}
