/**
 * The engine's record on disk: read back once at start, then appended to and made durable
 * (fdatasync) before the message each line backs is sent. Writes are synchronous on purpose:
 * a line and its message must not be reordered, and a line a second is cheap.
 *
 * @module
 */
import { type RecordLine, type Replay, replay, serializeLine } from "./meter_record.ts";

const encoder = new TextEncoder();

/** An open record file. */
export class RecordFile {
  private constructor(readonly path: string, readonly file: Deno.FsFile) {}

  /** Opens (creating) `path` and reads what it holds; throws if it cannot be read or written. */
  static open(path: string): { file: RecordFile; replay: Replay } {
    let text = "";
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const file = Deno.openSync(path, { append: true, create: true });
    // A torn last line (crash mid-write) must not glue itself to the next line written.
    if (text !== "" && !text.endsWith("\n")) file.writeSync(encoder.encode("\n"));
    return { file: new RecordFile(path, file), replay: replay(text) };
  }

  /** Appends `lines` and waits until they are on disk. */
  append(lines: RecordLine[]): void {
    if (lines.length === 0) return;
    let bytes = encoder.encode(lines.map(serializeLine).join(""));
    while (bytes.length > 0) bytes = bytes.subarray(this.file.writeSync(bytes));
    this.file.syncDataSync();
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }
}
