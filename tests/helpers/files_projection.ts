/**
 * A projection that keeps every file of the head tree as text: the state the
 * store tests compare, whatever the backend.
 */
import type { Identity, Projection } from "../../store/history.ts";

/** Every file at head (keys/ left out) and the head's oid. */
export interface FilesState {
  files: Map<string, string>;
  head: string | null;
}

/** The committer of the store tests' commits. */
export const COMMITTER: Identity = { name: "Akkoord", email: "history@akkoord.example" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The `files` of a commit request: text written as UTF-8, bytes as they are,
 * null for a file the commit deletes.
 */
export function fileChanges(
  files: Record<string, string | Uint8Array | null>,
): Map<string, Uint8Array | null> {
  return new Map(
    Object.entries(files).map(([path, content]) => [
      path,
      typeof content === "string" ? encoder.encode(content) : content,
    ]),
  );
}

/** A fresh projection onto {@link FilesState}. */
export function filesProjection(): Projection<FilesState> {
  return {
    empty: () => ({ files: new Map(), head: null }),
    wants: (path) => !path.startsWith("keys/"),
    apply(state, path, content) {
      if (content === null) state.files.delete(path);
      else state.files.set(path, decoder.decode(content));
    },
    setHead(state, oid) {
      state.head = oid;
    },
  };
}
