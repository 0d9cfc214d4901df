// config-error.ts: the one error a domain config file can produce — "FILE:LINE: what is wrong".
//
// Callers (CLI, toolstack service) print `message` as one line and switch on `code`, which is
// stable. `line` is null for problems with the file as a whole (a missing required key).
import { PvkvmError } from '../host/errors.ts';

export type ConfigErrorCode =
  /** Not xl.cfg syntax: stray character, unterminated string or list, missing '='. */
  | 'SYNTAX'
  /** No longer raised: unknown keys are warnings now, as in xl (kept so the code stays stable). */
  | 'UNKNOWN_KEY'
  /** The same key set twice. */
  | 'DUPLICATE_KEY'
  /** A string where a number belongs, a list where a string belongs, etc. */
  | 'BAD_TYPE'
  /** The right type but an unacceptable value (range, name syntax, disk spec…). */
  | 'BAD_VALUE'
  /** A required key is absent. */
  | 'MISSING_KEY';

export class ConfigError extends PvkvmError {
  override readonly name = 'ConfigError';

  constructor(
    readonly code: ConfigErrorCode,
    readonly file: string,
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(`${file}:${line === null ? '' : `${line}:`} ${detail}`);
  }
}
