/**
 * The error catalogue of the HTTP surface (admin API, app API, health, metrics, console), as
 * `src/protocol/errors.ts` is the socket protocol's: every error answer is `{ code, message?,
 * issues? }` with its status taken from here, so a code cannot be answered with two statuses,
 * and the OpenAPI document and docs/admin-api.md describe the same set
 * (`test/operator/http-errors.test.ts` holds both to it).
 */
export interface HttpErrorSpec {
  readonly status: number;
  /** What the code means; also the default `message` of an admin API answer. */
  readonly message: string;
}

export const httpErrors = {
  BAD_REQUEST: { status: 400, message: 'invalid body, query or path parameter' },
  UNAUTHORIZED: { status: 401, message: 'missing or wrong credentials: the admin token, or on /v1/me the user\'s own' },
  FORBIDDEN: { status: 403, message: "a moderator's token: only the moderation routes are open to it" },
  NOT_FOUND: { status: 404, message: 'no such thing' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'this path does not take this method' },
  TOO_MANY_ROOMS: { status: 409, message: 'the programme has ROOMS_PER_PROGRAM_MAX rooms' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the body is too large' },
  RATE_LIMITED: { status: 429, message: 'too many requests from this address; retry after Retry-After seconds' },
  METRICS_FAILED: { status: 500, message: 'the metrics could not be collected' },
  UNAVAILABLE: { status: 503, message: 'a backend failed; nothing or part of the change may have happened, try again' },
} as const satisfies Record<string, HttpErrorSpec>;

export type HttpErrorCode = keyof typeof httpErrors;

/** Thrown by an admin route (or its body reader) to answer with a catalogued error. */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: HttpErrorCode,
    message: string = httpErrors[code].message,
    readonly issues?: unknown,
  ) {
    super(message);
    this.status = httpErrors[code].status;
  }
}
