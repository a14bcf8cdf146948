/**
 * FSx error codes as the service returns them (`__type` = code, `Message`), plus the extra members
 * some of them carry in the API model (IncompatibleParameterError.Parameter,
 * ServiceLimitExceeded.Limit). The router serialises `fields` next to `Message`.
 */
import { LocalAwsError } from '../types.js';

export class FsxError extends LocalAwsError {
  constructor(
    code: string,
    message: string,
    /** Extra members of the error shape, serialised into the JSON error body. */
    readonly fields: Record<string, unknown> = {},
    status = 400,
  ) {
    super(code, message, status);
  }
}

export const badRequest = (message: string) => new FsxError('BadRequest', message);

export const fileSystemNotFound = (id: string) =>
  new FsxError('FileSystemNotFound', `File system '${id}' does not exist.`);

export const associationNotFound = (id: string) =>
  new FsxError('DataRepositoryAssociationNotFound', `Data repository association '${id}' does not exist.`);

export const taskNotFound = (id: string) =>
  new FsxError('DataRepositoryTaskNotFound', `Data repository task '${id}' does not exist.`);

export const incompatibleParameter = (parameter: string, token: string) =>
  new FsxError(
    'IncompatibleParameterError',
    `The client request token '${token}' was already used with a different value for ${parameter}. A client request token must identify exactly one request.`,
    { Parameter: parameter },
  );

export const unsupported = (message: string) => new FsxError('UnsupportedOperation', message);
