import assert from "node:assert/strict";
import { openDiskStore } from "../store/disk_store.ts";
import type { CommitRequest, HistoryStore, Identity } from "../store/history.ts";
import { git, run, runCapture } from "./helpers/git.ts";
import { historyGitDir, onlyOn, openTestStore, signingKeyFile } from "./helpers/test_store.ts";
import { COMMITTER, filesProjection, type FilesState } from "./helpers/files_projection.ts";

// Tests of what every history store does run on the run's backend; those of the disk store's own
// files, locks and crash recovery say "disk store only" (the KV store's are in kv_*_test.ts).

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function request(
  at: number,
  files: Record<string, string | null>,
  extra: Partial<CommitRequest> = {},
): CommitRequest {
  return {
    subject: `Change ${at}`,
    trailers: [["Event", "test"]],
    author: { name: "Tester", email: "tester@example.org" },
    at: new Date(Date.UTC(2024, 0, 1) + at * 1000),
    files: new Map(
      Object.entries(files).map((
        [path, text],
      ) => [path, text === null ? null : encoder.encode(text)]),
    ),
    ...extra,
  };
}

async function append(store: HistoryStore<FilesState>, commit: CommitRequest): Promise<string> {
  const { oid } = await store.transact(() => ({ commit, result: null }));
  assert.ok(oid !== null);
  return oid;
}

async function withStore(
  work: (store: HistoryStore<FilesState>, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-store-" });
  const store = await openTestStore({ dir, projection: filesProjection(), committer: COMMITTER });
  try {
    await work(store, dir);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The disk store's repository, for the tests of its files. */
function gitdir(dir: string): string {
  return `${dir}/history.git`;
}

async function verifyArgs(store: HistoryStore<FilesState>, dir: string): Promise<string[]> {
  const file = `${dir}/allowed_signers.test`;
  await Deno.writeTextFile(file, store.allowedSigners());
  return ["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${file}`];
}

Deno.test(
  "appends signed commits that stock git clones, verifies and fscks",
  async () => {
    await withStore(async (store, dir) => {
      const authors: Identity[] = [
        { name: "Evil <root@x>", email: "a<b>@example.org" },
        { name: "Line\nbreak\r\nand\0nul", email: "nl\n@example.org" },
        { name: "Zoë Ünal", email: "zoe@example.nl" },
        { name: "", email: "" },
        { name: "  <>  ", email: " <> " },
      ];
      const changes: Array<Record<string, string | null>> = [
        { "agreements/41039/81819889/status.json": "{}\n", "boards/41039.json": '{"a":1}\n' },
        { "agreements/41039/81819889/status.json": '{"v":2}\n', "a/b/c/d.txt": "deep\n" },
        { "a/b/c/d.txt": null, "boards/41039.json": '{"a":2}\n' },
        { "suppliers/81819889.json": "{}\n" },
        { "agreements/41039/81819889/status.json": null },
      ];
      const oids: string[] = [];
      for (const [i, files] of changes.entries()) {
        const trailers: Array<[string, string]> = [["Event", `event-${i}`], [
          "Actor",
          "multi\nline",
        ]];
        oids.push(await append(store, request(i, files, { author: authors[i], trailers })));
      }
      assert.equal(store.head(), oids.at(-1));
      const repo = await historyGitDir(dir);
      await git(["--git-dir", repo, "fsck", "--strict", "--no-dangling"]);
      const clone = `${dir}/clone`;
      await git(["clone", "--quiet", repo, clone]);
      await git(["fsck", "--strict"], { cwd: clone });

      const listed = (await git(["rev-list", "HEAD"], { cwd: clone })).trim().split("\n");
      assert.deepEqual(listed, [...oids].reverse());
      const verify = await verifyArgs(store, dir);
      for (const oid of oids) {
        const { stderr } = await runCapture("git", [...verify, "verify-commit", oid], {
          cwd: clone,
        });
        assert.match(stderr, /Good "git" signature for akkoord@history with ED25519 key/);
      }
      const committed = await git(["show", "HEAD:keys/allowed_signers"], { cwd: clone });
      assert.equal(committed, store.allowedSigners());
      assert.match(committed, /^akkoord@history namespaces="git" ssh-ed25519 AAAA\S+\n$/);

      const names = await git(["log", "--format=%an|%ae"], { cwd: clone });
      assert.deepEqual(names.trim().split("\n").reverse(), [
        "Evil root@x|ab@example.org",
        "Line break and nul|nl@example.org",
        "Zoë Ünal|zoe@example.nl",
        "unknown|unknown@akkoord.invalid",
        "unknown|unknown@akkoord.invalid",
      ]);
      const events = await git(["log", "--format=%(trailers:key=Event,valueonly)%x00"], {
        cwd: clone,
      });
      assert.deepEqual(events.split("\0").map((s) => s.trim()).filter((s) => s !== "").reverse(), [
        "event-0",
        "event-1",
        "event-2",
        "event-3",
        "event-4",
      ]);
      const message = await git(["log", "-1", "--format=%B", oids[0] ?? ""], { cwd: clone });
      const parsed = await git(["interpret-trailers", "--parse"], { stdin: message });
      assert.equal(parsed, "Event: event-0\nActor: multi line\n");

      const story = await git([
        "log",
        "-p",
        "--format=%s",
        "--",
        "agreements/41039/81819889/status.json",
      ], {
        cwd: clone,
      });
      assert.match(story, /^Change 4\n[\s\S]*deleted file[\s\S]*-\{"v":2\}/);
      assert.match(story, /Change 1\n[\s\S]*-\{\}\n\+\{"v":2\}/);
      assert.match(story, /Change 0\n[\s\S]*new file[\s\S]*\+\{\}/);
    });
  },
);

Deno.test(
  "a signature verifies with ssh-keygen -Y verify on the commit payload",
  async () => {
    await withStore(async (store, dir) => {
      const oid = await append(store, request(1, { "x.txt": "x\n" }));
      const raw = await git(["--git-dir", await historyGitDir(dir), "cat-file", "commit", oid]);
      const match = /\ngpgsig ((?:.*\n)(?: .*\n)*)/.exec(raw);
      assert.ok(match?.[1] !== undefined);
      const signature = match[1].replace(/^ /gm, "");
      const payload = raw.replace(match[0], "\n");
      await Deno.writeTextFile(`${dir}/commit.sig`, signature);
      await Deno.writeTextFile(`${dir}/signers`, store.allowedSigners());
      const args = ["-Y", "verify", "-f", `${dir}/signers`, "-I", "akkoord@history", "-n", "git"];
      const out = await run("ssh-keygen", [...args, "-s", `${dir}/commit.sig`], { stdin: payload });
      assert.match(out, /Good "git" signature for akkoord@history/);
      await assert.rejects(
        run("ssh-keygen", [...args, "-s", `${dir}/commit.sig`], { stdin: payload + "x" }),
      );
    });
  },
);

Deno.test(
  "commits are byte-identical to git commit-tree -S with the same key",
  async () => {
    await withStore(async (store, dir) => {
      const first = await append(store, request(1, { "a/b.txt": "b\n" }));
      const second = await append(
        store,
        request(2, { "a/c.txt": "c\n" }, {
          author: { name: "Zoë Ünal", email: "zoe@example.nl" },
          trailers: [["Event", "offer"], ["Version", "2"]],
        }),
      );
      const repo = await historyGitDir(dir);
      const tree = (await git(["--git-dir", repo, "rev-parse", `${second}^{tree}`])).trim();
      const date = "1704067202 +0000";
      const native = await git([
        "--git-dir",
        repo,
        "-c",
        "gpg.format=ssh",
        "-c",
        `user.signingkey=${await signingKeyFile(dir)}`,
        "commit-tree",
        "-S",
        "-p",
        first,
        tree,
      ], {
        stdin: "Change 2\n\nEvent: offer\nVersion: 2\n",
        env: {
          GIT_AUTHOR_NAME: "Zoë Ünal",
          GIT_AUTHOR_EMAIL: "zoe@example.nl",
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_NAME: COMMITTER.name,
          GIT_COMMITTER_EMAIL: COMMITTER.email,
          GIT_COMMITTER_DATE: date,
        },
      });
      assert.equal(native.trim(), second);
    });
  },
);

Deno.test(onlyOn("disk", "the signing key is an OpenSSH key file of mode 0600"), async () => {
  await withStore(async (store, dir) => {
    const info = await Deno.stat(`${dir}/signing_key`);
    assert.equal((info.mode ?? 0) & 0o777, 0o600);
    const publicKey = await run("ssh-keygen", ["-y", "-f", `${dir}/signing_key`]);
    assert.equal(
      store.allowedSigners().split(" ").slice(2, 4).join(" ").trim(),
      publicKey.split(" ").slice(0, 2).join(" "),
    );
  });
});

Deno.test(onlyOn("disk", "a key file readable by others is refused"), async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-store-" });
  try {
    const options = { dir, projection: filesProjection(), committer: COMMITTER };
    await (await openDiskStore(options)).close();
    await Deno.chmod(`${dir}/signing_key`, 0o644);
    await assert.rejects(openDiskStore(options), /mode 0644 lets others read it/);
    await Deno.chmod(`${dir}/signing_key`, 0o600);
    await (await openDiskStore(options)).close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "removing the last file of a directory removes the directory",
  async () => {
    await withStore(async (store, dir) => {
      await append(store, request(1, { "a/b/c.txt": "c\n", "a/keep.txt": "k\n" }));
      await append(store, request(2, { "a/b/c.txt": null }));
      const repo = await historyGitDir(dir);
      const listing = await git(["--git-dir", repo, "ls-tree", "-r", "-t", "--name-only", "HEAD"]);
      assert.deepEqual(listing.trim().split("\n"), [
        "a",
        "a/keep.txt",
        "keys",
        "keys/allowed_signers",
      ]);
      await append(store, request(3, { "a/keep.txt": null }));
      const now = await historyGitDir(dir);
      const after = await git(["--git-dir", now, "ls-tree", "-r", "-t", "--name-only", "HEAD"]);
      assert.deepEqual(after.trim().split("\n"), ["keys", "keys/allowed_signers"]);
      await git(["--git-dir", now, "fsck", "--strict"]);
    });
  },
);

Deno.test("reads files, trees and a path's log back", async () => {
  await withStore(async (store, dir) => {
    const one = await append(store, request(1, { "d/x.txt": "1\n", "d/e/y.txt": "y\n" }));
    const two = await append(store, request(2, { "z.txt": "z\n" }));
    const three = await append(store, request(3, { "d/x.txt": "3\n" }));
    assert.equal(decoder.decode((await store.readFile(one, "d/x.txt")) ?? undefined), "1\n");
    assert.equal(decoder.decode((await store.readFile(three, "d/x.txt")) ?? undefined), "3\n");
    assert.equal(await store.readFile(one, "z.txt"), null);
    assert.equal(await store.readFile(one, "d"), null);

    const tree =
      (await git(["--git-dir", await historyGitDir(dir), "rev-parse", `${three}^{tree}`])).trim();
    const files = await store.readTreeFiles(tree);
    assert.deepEqual(files.map((file) => file.path), [
      "d/e/y.txt",
      "d/x.txt",
      "keys/allowed_signers",
      "z.txt",
    ]);
    const native = await git(["--git-dir", await historyGitDir(dir), "ls-tree", "-r", tree]);
    for (const file of files) assert.ok(native.includes(`${file.oid}\t${file.path}`));
    assert.equal(decoder.decode(files[1]?.content), "3\n");

    assert.deepEqual((await store.log()).map((commit) => commit.oid), [three, two, one]);
    assert.deepEqual((await store.log({ path: "d/x.txt" })).map((c) => c.oid), [three, one]);
    assert.deepEqual((await store.log({ path: "d" })).map((c) => c.oid), [three, one]);
    assert.deepEqual((await store.log({ limit: 1 })).map((c) => c.oid), [three]);
    assert.deepEqual((await store.log({ from: two })).map((c) => c.oid), [two, one]);
    const [latest] = await store.log({ limit: 1 });
    assert.equal(latest?.subject, "Change 3");
    assert.deepEqual(latest?.trailers, [["Event", "test"]]);
    assert.equal(latest?.author.at.toISOString(), "2024-01-01T00:00:03.000Z");
    assert.deepEqual(latest?.parents, [two]);
  });
});

Deno.test("50 concurrent transactions each land exactly once", async () => {
  await withStore(async (store, dir) => {
    const counter = (state: FilesState) => Number(state.files.get("counter.txt") ?? "0");
    const runs = Array.from({ length: 50 }, (_, i) =>
      store.transact((state) => {
        const next = counter(state) + 1;
        return { commit: request(i, { "counter.txt": String(next) }), result: next };
      }));
    const results = await Promise.all(runs);
    assert.deepEqual(results.map((r) => r.result).sort((a, b) => a - b), range(1, 50));
    assert.equal(counter(store.state), 50);
    const repo = await historyGitDir(dir);
    const merges = await git(["--git-dir", repo, "rev-list", "--min-parents=2", "HEAD"]);
    assert.equal(merges, "");
    assert.equal((await git(["--git-dir", repo, "rev-list", "--count", "HEAD"])).trim(), "50");
    const counts = await git(["--git-dir", repo, "log", "-p", "--format=", "--", "counter.txt"]);
    assert.equal(counts.match(/^\+\d+$/gm)?.length, 50);
  });
});

Deno.test(
  "a decision without a commit or a throwing decide writes nothing",
  async () => {
    await withStore(async (store, dir) => {
      const first = await append(store, request(1, { "a.txt": "a" }));
      const idle = await store.transact(() => ({ commit: null, result: "same" }));
      assert.deepEqual(idle, { oid: null, result: "same" });
      await assert.rejects(
        store.transact(() => {
          throw new Error("Cannot sign: not approved");
        }),
        /not approved/,
      );
      await assert.rejects(
        store.transact(() => ({ commit: request(2, { "../escape": "x" }), result: null })),
        /is not a name Git accepts/,
      );
      await assert.rejects(
        store.transact(() => ({ commit: request(3, { "a.txt/inner": "x" }), result: null })),
        /"a.txt" is a file/,
      );
      assert.equal(store.head(), first);
      const ref = await git([
        "--git-dir",
        await historyGitDir(dir),
        "rev-parse",
        "refs/heads/main",
      ]);
      assert.equal(ref.trim(), first);
      assert.equal(store.state.files.size, 1);
    });
  },
);

Deno.test(onlyOn("disk", "a ref moved underneath is detected and decide runs again"), async () => {
  await withStore(async (store, dir) => {
    const first = await append(store, request(1, { "n.txt": "1" }));
    const repo = gitdir(dir);
    const blob = (await git(["--git-dir", repo, "hash-object", "-w", "--stdin"], { stdin: "7" }))
      .trim();
    await git(["--git-dir", repo, "read-tree", `${first}^{tree}`], {
      env: { GIT_INDEX_FILE: `${dir}/index` },
    });
    await git(["--git-dir", repo, "update-index", "--add", "--cacheinfo", `100644,${blob},n.txt`], {
      env: { GIT_INDEX_FILE: `${dir}/index` },
    });
    const tree = (await git(["--git-dir", repo, "write-tree"], {
      env: { GIT_INDEX_FILE: `${dir}/index` },
    })).trim();
    const outside =
      (await git(["--git-dir", repo, "commit-tree", "-p", first, "-m", "outside", tree], {
        env: {
          GIT_AUTHOR_NAME: "o",
          GIT_AUTHOR_EMAIL: "o@o",
          GIT_COMMITTER_NAME: "o",
          GIT_COMMITTER_EMAIL: "o@o",
        },
      })).trim();
    await git(["--git-dir", repo, "update-ref", "refs/heads/main", outside, first]);

    const seen: string[] = [];
    const { oid } = await store.transact((state) => {
      const value = state.files.get("n.txt") ?? "";
      seen.push(value);
      return { commit: request(2, { "n.txt": `${value}+1` }), result: null };
    });
    assert.deepEqual(seen, ["1", "7"]);
    assert.equal(store.state.files.get("n.txt"), "7+1");
    const parent = await git(["--git-dir", repo, "rev-parse", `${oid}^`]);
    assert.equal(parent.trim(), outside);
  });
});

Deno.test(
  onlyOn("disk", "a second store on the same directory is refused until the first closes"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-store-" });
    try {
      const options = { dir, projection: filesProjection(), committer: COMMITTER };
      const first = await openDiskStore(options);
      await assert.rejects(openDiskStore(options), (error: Error) => {
        assert.match(error.message, /Cannot open data directory ".*": another process is using it/);
        return true;
      });
      await first.close();
      await assert.rejects(
        first.transact(() => ({ commit: null, result: null })),
        /the store is closed/,
      );
      const second = await openDiskStore(options);
      await second.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("reopening rebuilds the same state and keeps appending", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-store-" });
  try {
    const options = { dir, projection: filesProjection(), committer: COMMITTER };
    const store = await openTestStore(options);
    for (let i = 0; i < 12; i++) {
      await append(store, request(i, { [`boards/b${i % 4}/s${i % 3}.json`]: `${i}` }));
    }
    await append(store, request(20, { "boards/b0/s0.json": null }));
    const before = { files: new Map(store.state.files), head: store.state.head };
    const signers = store.allowedSigners();
    await store.close();

    const reopened = await openTestStore(options);
    try {
      assert.deepEqual(reopened.state, before);
      assert.equal(reopened.head(), before.head);
      assert.equal(reopened.allowedSigners(), signers);
      const next = await append(reopened, request(30, { "boards/b9/s9.json": "x" }));
      assert.equal(reopened.state.head, next);
      const changed = await git([
        "--git-dir",
        await historyGitDir(dir),
        "show",
        "--name-only",
        "--format=",
        next,
      ]);
      assert.equal(changed, "boards/b9/s9.json\n");
    } finally {
      await reopened.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(onlyOn("disk", "crash leftovers and torn objects do not survive a reopen"), async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-store-" });
  try {
    const options = { dir, projection: filesProjection(), committer: COMMITTER };
    const store = await openDiskStore(options);
    await append(store, request(1, { "a.txt": "a" }));
    await store.close();
    const repo = gitdir(dir);
    await Deno.writeTextFile(`${repo}/refs/heads/main.lock`, "");
    await Deno.writeTextFile(`${repo}/objects/tmp_obj_leftover`, "partial");
    const oid = (await git(["hash-object", "--stdin"], { stdin: "torn content" })).trim();
    await Deno.mkdir(`${repo}/objects/${oid.slice(0, 2)}`, { recursive: true });
    await Deno.writeFile(
      `${repo}/objects/${oid.slice(0, 2)}/${oid.slice(2)}`,
      new Uint8Array([1, 2]),
    );

    const reopened = await openDiskStore(options);
    try {
      await append(reopened, request(2, { "torn.txt": "torn content" }));
      await assert.rejects(Deno.stat(`${repo}/objects/tmp_obj_leftover`), Deno.errors.NotFound);
      await git(["--git-dir", repo, "fsck", "--strict"]);
      assert.equal(await git(["--git-dir", repo, "show", "HEAD:torn.txt"]), "torn content");
    } finally {
      await reopened.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

Deno.test("a large directory changed entry by entry, in groups, reads back as git sees it", async () => {
  await withStore(async (store, dir) => {
    // 150 entries: past the size from which a directory's versions share their entries.
    const expected = new Map<string, string>();
    const seed: Record<string, string> = {};
    for (let i = 0; i < 150; i++) seed[`big/${i}/status.json`] = `seed ${i}`;
    await append(store, request(0, seed));
    for (const [path, text] of Object.entries(seed)) expected.set(path, text);
    // Rounds of concurrent calls (decided as groups on top of each other):
    // changed entries, removed directories and added ones, more changes than
    // one version keeps on top of a shared map.
    let at = 1;
    for (let round = 0; round < 6; round++) {
      const calls = Array.from({ length: 30 }, (_, i) => {
        const n = (round * 53 + i * 7) % 180;
        const path = `big/${n}/status.json`;
        const remove = (i + round) % 5 === 0 && expected.has(path);
        const text = remove ? null : `round ${round} call ${i}`;
        if (text === null) expected.delete(path);
        else expected.set(path, text);
        return store.transact(() => ({ commit: request(at++, { [path]: text }), result: null }));
      });
      await Promise.all(calls);
    }
    const gitdir = await historyGitDir(dir);
    await git(["--git-dir", gitdir, "fsck", "--strict", "--no-dangling"]);
    const listed = (await git(["--git-dir", gitdir, "ls-tree", "-r", "--name-only", "HEAD", "big"]))
      .trim().split("\n").sort();
    assert.deepEqual(listed, [...expected.keys()].sort());
    for (const path of ["big/0/status.json", ...listed.slice(-3)]) {
      if (!expected.has(path)) continue;
      assert.equal(await git(["--git-dir", gitdir, "show", `HEAD:${path}`]), expected.get(path));
    }
    const seen = [...store.state.files].filter(([path]) => path.startsWith("big/"));
    assert.deepEqual(new Map(seen), expected);
  });
});
