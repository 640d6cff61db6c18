import { AGREEMENT_FILE, PRODUCTS_DIR } from "../domain/content.ts";
import { offeredVersions, type VersionSide } from "../domain/compare_versions.ts";
import type { BoardId, SupplierId } from "../domain/ids.ts";
import { statusPath, versionDir } from "../domain/paths.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { AgreementStatus, State } from "../domain/state.ts";
import type { HistoryStore } from "../store/history.ts";

const decoder = new TextDecoder();

/**
 * Reads one offered version of an agreement from the history by the tree oid
 * its status records; null when the agreement never had that version.
 */
export async function readVersion(
  store: HistoryStore<State>,
  status: AgreementStatus,
  version: number,
): Promise<VersionSide | null> {
  const oid = offeredVersions(status).get(version);
  if (oid === undefined) return null;
  const files = await store.readTreeFiles(oid);
  const text = files.find((file) => file.path === AGREEMENT_FILE);
  const products = files
    .filter((file) => file.path.startsWith(`${PRODUCTS_DIR}/`))
    .map((file) => JSON.parse(decoder.decode(file.content)) as Privacybijsluiter);
  return { version, oid, text: text ? decoder.decode(text.content) : "", products };
}

/**
 * Reads the version an agreement had at a commit, through its status.json
 * and the files of `version/` at that commit; null when the commit or the
 * agreement at it does not exist.
 */
export async function readAtCommit(
  store: HistoryStore<State>,
  board: BoardId,
  supplier: SupplierId,
  commit: string,
): Promise<VersionSide | null> {
  let statusBytes: Uint8Array | null;
  try {
    statusBytes = await store.readFile(commit, statusPath(board, supplier));
  } catch {
    return null;
  }
  if (statusBytes === null) return null;
  const status = JSON.parse(decoder.decode(statusBytes)) as AgreementStatus;
  const dir = versionDir(board, supplier);
  const text = await store.readFile(commit, `${dir}/${AGREEMENT_FILE}`);
  const products: Privacybijsluiter[] = [];
  for (const product of status.current.products) {
    const bytes = await store.readFile(commit, `${dir}/${PRODUCTS_DIR}/${product}.json`);
    if (bytes !== null) products.push(JSON.parse(decoder.decode(bytes)) as Privacybijsluiter);
  }
  return {
    version: status.current.version,
    oid: status.current.oid,
    commit,
    text: text === null ? "" : decoder.decode(text),
    products,
  };
}
