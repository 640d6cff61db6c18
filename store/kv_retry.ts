/**
 * Local Deno KV keeps its data in SQLite, which refuses a write with
 * "database is locked" while another process holds the file's write lock.
 * Such an operation changed nothing and is safe to run again.
 */

const ATTEMPTS = 50;
const FIRST_WAIT_MS = 0.5;
const LONGEST_WAIT_MS = 20;

/**
 * Runs `operation`, running it again after a short, growing wait while it
 * rejects with "database is locked"; other errors reject at once.
 */
export async function retryWhenLocked<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isLocked(error) || attempt === ATTEMPTS) throw error;
    }
    const wait = Math.min(FIRST_WAIT_MS * 2 ** attempt, LONGEST_WAIT_MS);
    await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random())));
  }
}

function isLocked(error: unknown): boolean {
  return error instanceof Error && /database is locked/i.test(error.message);
}
