/**
 * The objects directory of a bare repository: loose objects written durably
 * (temporary file, flush, rename, directory flush) and read back checked.
 */
import fs from "node:fs";
import git from "isomorphic-git";
import {
  deflateObject,
  type EncodedObject,
  inflateObject,
  type ObjectType,
} from "./git_objects.ts";
import { syncDirectory, writeNewFile } from "./durable_file.ts";

/** Prefix `git fsck` ignores for temporary object files. */
export const TEMPORARY_OBJECT_PREFIX = "tmp_obj_";

/** Loose objects of one repository; packed objects are read through isomorphic-git. */
export class ObjectDatabase {
  #gitdir: string;
  #objects: string;
  #known = new Set<string>();
  #fanOuts = new Set<string>();

  constructor(gitdir: string) {
    this.#gitdir = gitdir;
    this.#objects = `${gitdir}/objects`;
  }

  /**
   * Makes every object durable. An object already on disk is kept only when
   * its file holds exactly that object; otherwise it is written again.
   */
  async write(objects: EncodedObject[]): Promise<void> {
    const unique = new Map(objects.map((object) => [object.oid, object]));
    const candidates = [...unique.values()].filter((object) => !this.#known.has(object.oid));
    const missing = await Promise.all(candidates.map((object) => this.#isMissing(object.oid)));
    const fresh = candidates.filter((_, i) => missing[i]);
    const fanOuts = new Set(fresh.map((object) => object.oid.slice(0, 2)));
    await Promise.all([...fanOuts].map((fanOut) => this.#ensureFanOut(fanOut)));
    await Promise.all(fresh.map((object) => this.#writeLoose(object)));
    await Promise.all([...fanOuts].map((fanOut) => syncDirectory(`${this.#objects}/${fanOut}`)));
    for (const object of candidates) this.#known.add(object.oid);
  }

  /** Reads an object, checking a loose object's content against its oid. */
  async read(oid: string): Promise<EncodedObject> {
    let file: Uint8Array;
    try {
      file = await Deno.readFile(this.#path(oid));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return await this.#readPacked(oid);
      throw error;
    }
    return inflateObject(oid, file);
  }

  /** Reads an object and checks its type. */
  async readTyped(oid: string, type: ObjectType): Promise<Uint8Array> {
    const object = await this.read(oid);
    if (object.type !== type) {
      throw new Error(`Cannot read ${type} ${oid}: it is a ${object.type}`);
    }
    return object.body;
  }

  async #isMissing(oid: string): Promise<boolean> {
    let file: Uint8Array;
    try {
      file = await Deno.readFile(this.#path(oid));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return true;
      throw error;
    }
    try {
      inflateObject(oid, file);
      return false;
    } catch {
      // A file that does not hold this object (torn or foreign) is replaced.
      return true;
    }
  }

  async #ensureFanOut(fanOut: string): Promise<void> {
    if (this.#fanOuts.has(fanOut)) return;
    try {
      await Deno.mkdir(`${this.#objects}/${fanOut}`);
      await syncDirectory(this.#objects);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    this.#fanOuts.add(fanOut);
  }

  async #writeLoose(object: EncodedObject): Promise<void> {
    const temporary = `${this.#objects}/${TEMPORARY_OBJECT_PREFIX}${crypto.randomUUID()}`;
    await writeNewFile(temporary, deflateObject(object), 0o444);
    await Deno.rename(temporary, this.#path(object.oid));
  }

  async #readPacked(oid: string): Promise<EncodedObject> {
    try {
      const found = await git.readObject({ fs, gitdir: this.#gitdir, oid, format: "content" });
      if (found.type !== "blob" && found.type !== "tree" && found.type !== "commit") {
        throw new Error(`its type "${found.type}" is not supported`);
      }
      return { oid, type: found.type, body: found.object as Uint8Array };
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot read object ${oid} in "${this.#gitdir}": ${why}`);
    }
  }

  #path(oid: string): string {
    return `${this.#objects}/${oid.slice(0, 2)}/${oid.slice(2)}`;
  }
}
