import { DomainError } from "./errors.ts";

const BOM = "\uFEFF";

/**
 * Parses CSV text as RFC 4180 describes it (https://www.rfc-editor.org/rfc/rfc4180):
 * comma-separated fields, fields in double quotes may hold commas, line breaks
 * and doubled quotes. Records end with CRLF, LF or a lone CR; a leading byte
 * order mark and a final line break are ignored.
 *
 * @throws {DomainError} `invalid_input` for an unterminated quoted field or a
 *   quote in a place the format does not allow.
 */
export function parseCsv(text: string): string[][] {
  const reader = new CsvReader(text.startsWith(BOM) ? text.slice(BOM.length) : text);
  return reader.readAll();
}

class CsvReader {
  readonly #text: string;
  #pos = 0;
  #line = 1;

  constructor(text: string) {
    this.#text = text;
  }

  readAll(): string[][] {
    const records: string[][] = [];
    while (this.#pos < this.#text.length) {
      records.push(this.#readRecord());
    }
    return records;
  }

  #readRecord(): string[] {
    const fields: string[] = [];
    for (;;) {
      fields.push(this.#peek() === '"' ? this.#readQuoted() : this.#readPlain());
      const next = this.#peek();
      if (next === ",") {
        this.#pos++;
        continue;
      }
      this.#skipLineBreak();
      return fields;
    }
  }

  #readPlain(): string {
    const start = this.#pos;
    while (this.#pos < this.#text.length && !isDelimiter(this.#peek())) {
      if (this.#peek() === '"') {
        throw this.#error("a quote inside an unquoted field");
      }
      this.#pos++;
    }
    return this.#text.slice(start, this.#pos);
  }

  #readQuoted(): string {
    const openedOnLine = this.#line;
    this.#pos++;
    let value = "";
    for (;;) {
      const close = this.#text.indexOf('"', this.#pos);
      if (close === -1) {
        throw new DomainError(
          "invalid_input",
          `Cannot parse CSV: the quoted field opened on line ${openedOnLine} is never closed`,
        );
      }
      value += this.#countLines(this.#text.slice(this.#pos, close));
      this.#pos = close + 1;
      if (this.#peek() !== '"') break;
      value += '"';
      this.#pos++;
    }
    if (this.#pos < this.#text.length && !isDelimiter(this.#peek())) {
      throw this.#error(`text ${JSON.stringify(this.#peek())} after a closing quote`);
    }
    return value;
  }

  #skipLineBreak(): void {
    if (this.#peek() === "\r") this.#pos++;
    if (this.#peek() === "\n") this.#pos++;
    this.#line++;
  }

  #countLines(chunk: string): string {
    this.#line += chunk.match(/\r\n|\r|\n/g)?.length ?? 0;
    return chunk;
  }

  #peek(): string | undefined {
    return this.#text[this.#pos];
  }

  #error(what: string): DomainError {
    return new DomainError("invalid_input", `Cannot parse CSV: ${what} on line ${this.#line}`);
  }
}

function isDelimiter(char: string | undefined): boolean {
  return char === "," || char === "\r" || char === "\n";
}
