/**
 * Errors rendered in the Cloud Storage JSON API shape:
 * `{ "error": { "code", "message", "errors": [{ "message", "domain", "reason", ... }] } }`.
 */

export interface GcsErrorDetail {
  message: string;
  domain: string;
  reason: string;
  locationType?: string;
  location?: string;
}

export class GcsError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly extra: Partial<GcsErrorDetail>;

  constructor(code: number, reason: string, message: string, extra: Partial<GcsErrorDetail> = {}) {
    super(message);
    this.name = 'GcsError';
    this.code = code;
    this.reason = reason;
    this.extra = extra;
  }

  toJSON(): { error: { code: number; message: string; errors: GcsErrorDetail[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason, ...this.extra }],
      },
    };
  }
}

export const badRequest = (message: string, reason = 'invalid'): GcsError => new GcsError(400, reason, message);

export const noSuchBucket = (): GcsError => new GcsError(404, 'notFound', 'The specified bucket does not exist.');

export const noSuchObject = (bucket: string, name: string): GcsError =>
  new GcsError(404, 'notFound', `No such object: ${bucket}/${name}`);

export const notFound = (message = 'Not Found'): GcsError => new GcsError(404, 'notFound', message);

export const conflict = (message: string): GcsError => new GcsError(409, 'conflict', message);

export const preconditionFailed = (location: string): GcsError =>
  new GcsError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.', {
    locationType: 'header',
    location,
  });

export const notModified = (): GcsError => new GcsError(304, 'notModified', 'Not Modified');

export const methodNotAllowed = (): GcsError => new GcsError(405, 'methodNotAllowed', 'Method not allowed.');

export const rangeNotSatisfiable = (): GcsError =>
  new GcsError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.');
