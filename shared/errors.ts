// The shared base of our coded errors: a stable, searchable `code` (a contract: logs,
// alerts, HTTP bodies and tests match on it) plus a message saying what, where and what
// was expected. It lives in shared/, which imports nothing of ours: drivers must not
// import the gateway, and the gateway's pure core (policy, credentials) must not import
// drivers, so neither side can hold it.

/**
 * Base for every error type that carries a stable code. Subclasses keep their own name,
 * code union, message format and extra fields; this sets `code` and `name` (the
 * subclass's class name), and passes `options` (e.g. `{ cause }`) on to Error unchanged.
 */
export abstract class CodedError<C extends string = string> extends Error {
  // Declared, not a class field, so `name` is set first and stays first in logged properties.
  declare readonly code: C;

  /**
   * @param code stable, searchable
   * @param message the whole message, as the subclass formats it (with or without the code)
   */
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
